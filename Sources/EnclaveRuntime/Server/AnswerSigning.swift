import EnclaveContract
import EnclaveCrypto

/// An answer to an authentic request, as `AnswerSigning` sees it (docs/contract.md §2a signs its
/// status and exact body bytes, bound to the request's signature).
public struct AuthenticAnswer: Sendable {
    public let status: Int
    public let body: [UInt8]
    public let requestSignature: String
    /// The secret the request verified under; the contract's signature uses the same one.
    let key: RPCSignatureCheck
}

/// How the answers to authentic requests are signed. The runtime signs with `ContractAnswerSigning`;
/// a benchmark composes other signings onto extra routes to price that step (`RuntimeComposition`).
public protocol AnswerSigning: Sendable {
    /// The `x-alfred-rpc-response-signature` value, or nil to send none.
    func responseSignature(for answer: AuthenticAnswer) -> String?
}

/// docs/contract.md §2a: HMAC under the secret the request verified with, over the request's
/// signature, the status and the body.
struct ContractAnswerSigning: AnswerSigning {
    let verifier: RPCVerifier

    func responseSignature(for answer: AuthenticAnswer) -> String? {
        // Fails only for a malformed signature or status, which authentication has ruled out.
        try? verifier.responseSignature(
            verifiedBy: answer.key, requestSignature: answer.requestSignature, status: answer.status, body: answer.body.span.bytes)
    }
}
