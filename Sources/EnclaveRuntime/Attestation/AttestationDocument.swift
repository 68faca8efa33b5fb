import EnclaveContract
import Foundation
import NIOCore

/// The runtime's attestation document (docs/contract.md §3). `json` is served byte for byte.
public struct AttestationDocument: Sendable {
    public let runtime: String
    public let measurement: String
    /// Raw Ed25519 public key, when the document publishes one.
    public let publicKey: [UInt8]?
    public let json: [UInt8]

    public var identity: AttestedIdentity { AttestedIdentity(runtime: runtime, measurement: measurement) }

    /// A fixed document's snapshot: served as configured (or generated), never aging.
    var snapshot: AttestationSnapshot {
        AttestationSnapshot(identity: identity, documentJSON: ByteBuffer(bytes: json), attestationDocument: nil, issuedAtMilliseconds: 0)
    }

    /// Parses a configured document; nil unless it is a JSON object with non-empty string
    /// `runtime` and `measurement`, and a `public_key` (when present) of base64 for 32 bytes.
    public init?(json: [UInt8]) {
        guard let body = AttestationDocumentBody(jsonBytes: json), !body.runtime.isEmpty, !body.measurement.isEmpty else { return nil }
        var publicKey: [UInt8]?
        if let text = body.publicKey {
            guard let data = Data(base64Encoded: text), data.count == 32 else { return nil }
            publicKey = [UInt8](data)
        }
        self.runtime = body.runtime
        self.measurement = body.measurement
        self.publicKey = publicKey
        self.json = json
    }

    /// The dev-shim document: generated at start, with the process start time and the public key.
    public static func devShim(measurement: String, issuedAt: Int64, publicKey: [UInt8]) -> AttestationDocument {
        let body = AttestationDocumentBody(
            runtime: "nitro", measurement: measurement, issuedAt: Int(issuedAt), devShim: true,
            publicKey: Data(publicKey).base64EncodedString())
        return AttestationDocument(json: body.jsonBytes)!
    }
}
