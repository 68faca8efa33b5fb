import EnclaveCrypto
import Foundation

/// A host's judgement of the enclave's Nitro attestation document (docs/contract.md §3a): it
/// verifies at the current time to the pinned root (with the chain cache), is no older than the
/// maximum age and no further ahead than the skew, and its PCRs satisfy TEE_ALLOWED_PCRS, a debug
/// enclave (PCR0 all zero) refused unless allowed (local only). Each failure names its step.
public struct NitroDocumentCheck: Sendable {
    let verifier: NitroVerifier
    let policy: NitroPCRPolicy?
    let allowDebug: Bool
    let maxAgeMilliseconds: Int64
    let maxFutureMilliseconds: Int64

    public init(configuration: EnclaveClientConfiguration) throws(NitroError) {
        verifier = try NitroVerifier(rootDER: configuration.nitroRootDER)
        policy = configuration.nitroPolicy
        allowDebug = configuration.allowDebugEnclave
        maxAgeMilliseconds = Int64(configuration.shared.attestationMaxAgeSeconds) * 1000
        maxFutureMilliseconds = Int64(configuration.shared.maxSkewSeconds) * 1000
    }

    /// The verified document at `milliseconds` (Unix time), or the step that refused it.
    public func check(_ bytes: [UInt8], at milliseconds: Int64) throws(EnclaveCheckFailure) -> NitroAttestationDocument {
        let document: NitroAttestationDocument
        do {
            document = try NitroAttestationDocument(verifying: bytes, at: milliseconds, with: verifier)
            try document.checkTime(at: milliseconds, maxAgeMilliseconds: maxAgeMilliseconds, maxFutureMilliseconds: maxFutureMilliseconds)
        } catch {
            // A document past its age is the enclave's NSM lagging, not a forgery: worth waiting for.
            throw EnclaveCheckFailure(.attestationDocumentInvalid, "\(error)", transient: error == .stale)
        }
        let isDebug = document.pcrs[0].map { $0.allSatisfy { $0 == 0 } } ?? false
        if isDebug && !allowDebug {
            throw EnclaveCheckFailure(.debugEnclave, "PCR0 is all zero: a debug enclave, whose memory its parent can read")
        }
        if let policy {
            do {
                try policy.check(document.pcrs, allowDebug: allowDebug)
            } catch {
                throw EnclaveCheckFailure(error == .debugEnclave ? .debugEnclave : .pcrsNotAllowed, "\(error)")
            }
        }
        return document
    }

    /// Whether a policy pins the PCRs (without one, local only, any measured enclave is taken).
    public var pinsPCRs: Bool { policy != nil }
}
