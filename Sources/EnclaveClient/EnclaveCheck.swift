import EnclaveContract

/// One whole check of the enclave, as the startup probe and every worker tick run it: fresh
/// challenge-bound evidence (docs/contract.md §3 and §4), then a signed ping whose answer is
/// authenticated by the shared secret and whose `binding` verifies with the very key the evidence
/// verified with (section 2a). So a relay that forwards attestation to the real enclave and
/// answers RPCs itself fails, even one that holds the shared secret.
public struct EnclaveCheck: Sendable {
    let verifier: AttestationVerifier
    let client: EnclaveRPCClient

    public init(verifier: AttestationVerifier, client: EnclaveRPCClient) {
        self.verifier = verifier
        self.client = client
    }

    public func run(purpose: String) async throws(EnclaveCheckFailure) -> VerifiedAttestation {
        let verified = try await verifier.verify(purpose: purpose)
        let identity: AttestedIdentity
        do {
            identity = try await client.ping(bindingKey: verified.evidenceKey)
        } catch {
            throw Self.failure(error)
        }
        guard identity.runtime.lowercased() == verified.runtime.lowercased(), identity.measurement == verified.measurement else {
            throw EnclaveCheckFailure(.evidenceInvalid, "the ping reports another identity than the verified evidence")
        }
        return verified
    }

    static func failure(_ error: EnclaveRPCError) -> EnclaveCheckFailure {
        switch error.code {
        case EnclaveRPCError.notAuthenticatedCode where error.claimedCode == EnclaveRPCError.channelNotAttested:
            return EnclaveCheckFailure(.channelNotAttested, error.message)
        case EnclaveRPCError.notAuthenticatedCode where error.claimedCode == RPCErrorCode.invalidRequestSignature.rawValue:
            // What a real enclave answers a request signed with another secret; it cannot sign
            // that answer, so it is not authenticated either: refused all the same.
            return EnclaveCheckFailure(
                .wrongSharedSecret, "/v1/rpc/ping was refused as wrongly signed (an answer that is not authenticated)")
        case EnclaveRPCError.notAuthenticatedCode:
            return EnclaveCheckFailure(.answerNotAuthenticated, error.message)
        case EnclaveRPCError.unreachableCode:
            return EnclaveCheckFailure(.unreachable, "no answer from /v1/rpc/ping")
        default:
            return EnclaveCheckFailure(.badStatus, "/v1/rpc/ping answered \(error.code)")
        }
    }
}
