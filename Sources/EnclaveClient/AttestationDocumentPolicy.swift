import EnclaveConfiguration
import EnclaveContract
import EnclaveCrypto
import EnclaveJSON
import Foundation

/// What a host checks of an attestation document (docs/contract.md §3, §3a): runtime, measurement,
/// the pinned key or the Nitro document under the pinned root and PCR policy, and the key evidence
/// must then verify with. The startup probe runs it on the document it fetches; attested TLS on the
/// document in each new connection's certificate (§2b).
public struct AttestationDocumentPolicy: Sendable {
    let settings: SharedSettings
    let pinnedKey: [UInt8]?
    let nitro: NitroDocumentCheck
    let now: @Sendable () -> Int64

    public init(
        configuration: EnclaveClientConfiguration, now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    ) throws(NitroError) {
        settings = configuration.shared
        pinnedKey = configuration.attestationPublicKey
        nitro = try NitroDocumentCheck(configuration: configuration)
        self.now = now
    }

    /// The checks the probe makes of a document's JSON (docs/contract.md §3, §3a); the key it
    /// vouches for, required. Attested TLS runs them on each new connection's certificate.
    public func channelKey(_ json: [UInt8]) throws(EnclaveCheckFailure) -> [UInt8] {
        guard let value = JSONValue(parsing: json), let document = AttestationDocumentBody(json: value) else {
            throw EnclaveCheckFailure(.badDocument, "the document is not the contract's shape")
        }
        guard let key = try check(document).key else { throw EnclaveCheckFailure(.signatureInvalid, "the document vouches for no key") }
        return key
    }

    /// A document's checks: the key evidence must verify with (nil only when insecure dev
    /// attestation trusts a document that publishes none), its Nitro document, what was skipped.
    func check(
        _ document: AttestationDocumentBody?
    ) throws(EnclaveCheckFailure) -> (key: [UInt8]?, nitroDocument: String?, skipped: [String]) {
        guard let document, !document.runtime.isEmpty, !document.measurement.isEmpty
        else { throw EnclaveCheckFailure(.badDocument, "the document lacks runtime or measurement") }
        let measurement = document.measurement
        guard document.runtime.lowercased() == settings.expectedRuntime.lowercased() else {
            throw EnclaveCheckFailure(.badDocument, "the document's runtime is not TEE_EXPECTED_RUNTIME")
        }
        guard settings.allowedMeasurements.contains(measurement) else {
            throw EnclaveCheckFailure(.measurementNotAllowed, "the document's measurement is not in TEE_ALLOWED_MEASUREMENTS")
        }
        var published: [UInt8]?
        if let text = document.publicKey {
            guard let key = Data(base64Encoded: text), key.count == 32 else {
                throw EnclaveCheckFailure(.badDocument, "the document's public_key is not a 32-byte base64 key")
            }
            published = [UInt8](key)
        }
        var skipped: [String] = []
        let key: [UInt8]?
        var nitroDocument: String?
        if document.format == AttestationDocumentBody.nitroFormat {
            // The key comes from the document AWS hardware signed, not from the JSON beside it.
            nitroDocument = document.attestationDocument
            let vouched = try checkNitro(nitroDocument, measurement: measurement)
            guard published == vouched else {
                throw EnclaveCheckFailure(.attestationDocumentInvalid, "public_key is not the key the Nitro document vouches for")
            }
            if let pinnedKey, pinnedKey != vouched {
                throw EnclaveCheckFailure(.signatureInvalid, "the Nitro document vouches for a key other than TEE_ATTESTATION_PUBLIC_KEY")
            }
            if !nitro.pinsPCRs { skipped.append("no TEE_ALLOWED_PCRS pinned: any Nitro enclave whose document verifies is trusted") }
            key = vouched
        } else if nitro.pinsPCRs && !settings.isLocal {
            // No silent downgrade from PCRs to a static document or a pinned key.
            throw EnclaveCheckFailure(.attestationDocumentInvalid, "the enclave serves no Nitro document while TEE_ALLOWED_PCRS is set")
        } else if let pinnedKey {
            if let published, published != pinnedKey {
                throw EnclaveCheckFailure(.signatureInvalid, "the document publishes a key other than TEE_ATTESTATION_PUBLIC_KEY")
            }
            key = pinnedKey
        } else if settings.allowInsecureDevAttestation && settings.isLocal {
            skipped.append("no TEE_ATTESTATION_PUBLIC_KEY pinned: trusting the key the document publishes")
            key = published
            if key == nil { skipped.append("the document publishes no key: evidence signature NOT verified") }
        } else {
            throw EnclaveCheckFailure(.signatureInvalid, "no public key to verify evidence with")
        }
        return (key, nitroDocument, skipped)
    }

    /// Verifies a Nitro document (base64) at the current time; its `measurement` must be its
    /// PCR0. Returns the 32-byte Ed25519 key it vouches for.
    func checkNitro(_ base64: String?, measurement: String) throws(EnclaveCheckFailure) -> [UInt8] {
        guard let base64, let bytes = Data(base64Encoded: base64) else {
            throw EnclaveCheckFailure(.attestationDocumentInvalid, "attestation_document is missing or not base64")
        }
        let document = try nitro.check([UInt8](bytes), at: now() * 1000)
        guard document.measurement == measurement else {
            throw EnclaveCheckFailure(.attestationDocumentInvalid, "measurement is not the Nitro document's PCR0")
        }
        guard let key = document.publicKey, key.count == 32 else {
            throw EnclaveCheckFailure(.attestationDocumentInvalid, "the Nitro document vouches for no 32-byte Ed25519 key")
        }
        return key
    }
}
