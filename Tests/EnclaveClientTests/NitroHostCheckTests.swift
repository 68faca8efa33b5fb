import EnclaveClient
import EnclaveConfiguration
import EnclaveCrypto
import Foundation
import Testing
import TestSupport

/// The hosts' judgement of a Nitro document, on AWS's own output: the genuine documents of the
/// vectors at their own time (an injected clock), with their real PCRs and the built-in AWS root.
@Suite("Hosts' Nitro document check on genuine AWS documents")
struct NitroHostCheckTests {
    static let betaPolicy = NitroVectors.betaPolicy

    func check(policy: String, allowDebug: Bool = false) throws -> NitroDocumentCheck {
        let configuration = try EnclaveClientConfiguration.load(EnvironmentSource([
            "ALFRED_ENV": "local", "TEE_ALLOWED_PCRS": policy, "TEE_ALLOW_DEBUG_ENCLAVE": allowDebug ? "true" : "false",
            "TEE_ATTESTATION_MAX_AGE_SECONDS": "300", "ENCLAVE_RPC_AUTH_MAX_SKEW_SECONDS": "30",
        ]))
        return try NitroDocumentCheck(configuration: configuration)
    }

    func step(_ body: () throws -> Void) -> EnclaveCheckFailure.Step? {
        do {
            try body()
            return nil
        } catch {
            return (error as? EnclaveCheckFailure)?.step
        }
    }

    @Test("Accepted at their own time with their PCRs; expired today, stale after the maximum age, refused PCRs and debug enclaves named")
    func genuine() throws {
        let beta = try NitroVectors.bytes("evervault_beta_valid-attestation-doc.cbor")
        let at: Int64 = 1_665_651_482_136
        let pinned = try check(policy: Self.betaPolicy)
        let document = try pinned.check(beta, at: at)
        #expect(document.measurement.hasPrefix("f4d48b81") && document.nonce?.count == 256)
        let today = Int64(Date().timeIntervalSince1970 * 1000)
        #expect(step { _ = try pinned.check(beta, at: today) } == .attestationDocumentInvalid)
        #expect(step { _ = try pinned.check(beta, at: at + 301_000) } == .attestationDocumentInvalid)
        #expect(step { _ = try pinned.check(beta, at: at - 31_000) } == .attestationDocumentInvalid)
        let zeros = "0=\(String(repeating: "00", count: 48))"
        let zeroPolicy = try check(policy: zeros), debugAllowed = try check(policy: zeros, allowDebug: true)
        #expect(step { _ = try zeroPolicy.check(beta, at: at) } == .pcrsNotAllowed)

        let debug = try NitroVectors.bytes("evervault_beta_debug-mode-attestation-doc.cbor")
        #expect(step { _ = try zeroPolicy.check(debug, at: 1_665_582_606_081) } == .debugEnclave)
        #expect(step { _ = try debugAllowed.check(debug, at: 1_665_582_606_081) } == nil)
    }
}
