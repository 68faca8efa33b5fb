import EnclaveContract

/// An enclave answer that is not a success, decoded from the error envelope, or a failure of the
/// call itself. `code` is the contract's error code, or one of the host's own: `unreachable`,
/// `invalid_response`, `answer_not_authenticated`.
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

    /// The contract's code when the enclave (authentically) answered with one.
    public var contractCode: RPCErrorCode? { RPCErrorCode(rawValue: code) }

    public static let unreachableCode = "unreachable"
    public static let invalidResponseCode = "invalid_response"
    public static let notAuthenticatedCode = "answer_not_authenticated"

    /// Nothing answered in time: refused, reset, or the deadline passed.
    public static func unreachable(_ detail: String) -> Self {
        .init(status: nil, code: unreachableCode, message: detail, retryable: true)
    }

    public static func invalidResponse(_ detail: String, status: Int?) -> Self {
        .init(status: status, code: invalidResponseCode, message: detail, retryable: true)
    }

    /// An answer whose response signature (or ping binding) does not verify: not the enclave's
    /// word (docs/contract.md §2a). `claimed` is the code its body claims, for diagnosis only.
    /// The `claimedCode` of a call refused because its channel did not prove the enclave (§2b).
    public static let channelNotAttested = "channel_not_attested"

    public static func notAuthenticated(_ detail: String, status: Int?, claimed: String? = nil) -> Self {
        .init(status: status, code: notAuthenticatedCode, message: detail, retryable: false, oauthError: nil)
            .claiming(claimed)
    }

    /// What an unauthenticated answer claimed to be (never acted on as the enclave's word).
    public private(set) var claimedCode: String?

    private func claiming(_ code: String?) -> Self {
        var copy = self
        copy.claimedCode = code
        return copy
    }

    public var description: String { "enclave error \(code) (status \(status.map(String.init) ?? "none")): \(message)" }
}
