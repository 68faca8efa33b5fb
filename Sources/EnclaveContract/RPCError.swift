/// A failed RPC, rendered as the error envelope (docs/contract.md §6). `message` is fixed text
/// chosen by the runtime: it never carries a secret, a token or the request body.
public struct RPCError: Error, Sendable, Equatable {
    public var code: RPCErrorCode
    public var message: String
    public var providerStatus: Int?
    public var oauthError: String?

    public init(_ code: RPCErrorCode, _ message: String, providerStatus: Int? = nil, oauthError: String? = nil) {
        self.code = code
        self.message = message
        self.providerStatus = providerStatus
        self.oauthError = oauthError
    }

    public var retryable: Bool { code.isRetryable(providerStatus: providerStatus) }
}
