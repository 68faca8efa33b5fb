/// An enclave answer that is not a success, decoded from the error envelope, or a transport
/// failure. `code` is the contract's error code (or `unreachable` / `invalid_response`).
public struct EnclaveRPCError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int?
    public var code: String
    public var message: String
    public var retryable: Bool
    public var providerStatus: Int?
    public var oauthError: String?

    public init(status: Int?, code: String, message: String, retryable: Bool, providerStatus: Int? = nil, oauthError: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.retryable = retryable
        self.providerStatus = providerStatus
        self.oauthError = oauthError
    }

    public static func unreachable(_ detail: String) -> Self {
        .init(status: nil, code: "unreachable", message: detail, retryable: true)
    }

    public static func invalidResponse(_ detail: String, status: Int?) -> Self {
        .init(status: status, code: "invalid_response", message: detail, retryable: true)
    }

    public var description: String { "enclave error \(code) (status \(status.map(String.init) ?? "none")): \(message)" }
}
