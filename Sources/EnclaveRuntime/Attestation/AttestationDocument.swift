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
        guard let object = try? JSONSerialization.jsonObject(with: Data(json)) as? [String: Any],
            let runtime = object["runtime"] as? String, !runtime.isEmpty,
            let measurement = object["measurement"] as? String, !measurement.isEmpty
        else { return nil }
        var publicKey: [UInt8]?
        if let value = object["public_key"], !(value is NSNull) {
            guard let text = value as? String, let data = Data(base64Encoded: text), data.count == 32 else { return nil }
            publicKey = [UInt8](data)
        }
        self.runtime = runtime
        self.measurement = measurement
        self.publicKey = publicKey
        self.json = json
    }

    /// The dev-shim document: generated at start, with the process start time and the public key.
    public static func devShim(measurement: String, issuedAt: Int64, publicKey: [UInt8]) -> AttestationDocument {
        struct DevShimDocument: Encodable {
            var runtime = "nitro"
            var measurement: String
            var issued_at: Int64
            var signature: String? = nil
            var dev_shim = true
            var public_key: String

            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: Keys.self)
                try c.encode(runtime, forKey: .runtime)
                try c.encode(measurement, forKey: .measurement)
                try c.encode(issued_at, forKey: .issued_at)
                try c.encodeNil(forKey: .signature)  // null, as the contract shows
                try c.encode(dev_shim, forKey: .dev_shim)
                try c.encode(public_key, forKey: .public_key)
            }
            enum Keys: String, CodingKey { case runtime, measurement, issued_at, signature, dev_shim, public_key }
        }
        let body = DevShimDocument(
            measurement: measurement, issued_at: issuedAt, public_key: Data(publicKey).base64EncodedString())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        let json = try! encoder.encode(body)
        return AttestationDocument(json: [UInt8](json))!
    }
}
