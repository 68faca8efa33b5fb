import EnclaveContract
import EnclaveCrypto

/// The signed ping (docs/contract.md §5): the acknowledgement, and the `binding` (§2a) that only
/// the holder of the attested key can make for this very request.
struct PingHandler: Sendable {
    let identity: AttestedIdentity
    /// The key that signs challenge evidence; it also signs the ping's `binding`.
    let evidenceSigner: ChallengeSigner

    func ping(_ request: AuthenticatedRequest, context: EnclaveRequestContext) async -> RPCAnswer {
        await RPCBodyCheck.respond(request, context, decoding: PingRPCRequest.self) { ping throws(RPCError) in
            guard let message = try? PingBinding.message(requestID: ping.requestID, requestSignature: request.signature.requestSignature),
                let binding = try? evidenceSigner.sign(message)
            else { throw RPCError(.rpcInternalError, "the ping binding could not be signed") }
            return PingResponse(requestID: ping.requestID, attestedIdentity: identity, binding: binding)
        }
    }
}
