import EnclaveJSON

/// The error envelope of every `/v1/rpc/` refusal (docs/contract.md §6). Decoded, `code` is kept
/// as text: a client reports a code it does not know rather than call the answer malformed.
public struct ErrorEnvelope: WireBody {
    /// null, not absent, before step 7 of the verification order.
    public var requestID: String?
    public var code: String
    public var message: String
    public var retryable: Bool
    /// Only with `provider_failed`.
    public var providerStatus: Int?
    public var oauthError: String?

    public init(requestID: String?, error: RPCError) {
        self.requestID = requestID
        code = error.code.rawValue
        message = error.message
        retryable = error.retryable
        if error.code == .providerFailed { (providerStatus, oauthError) = (error.providerStatus, error.oauthError) }
    }

    public init?(json: JSONValue) {
        guard let error = json["error"], let code = error["code"]?.string, let message = error["message"]?.string,
            case .bool(let retryable)? = error["retryable"], let requestID = OptionalField.string(json["request_id"]),
            let providerStatus = OptionalField.integer(error["provider_status"]), let oauthError = OptionalField.string(error["oauth_error"])
        else { return nil }
        (self.requestID, self.code, self.message, self.retryable) = (requestID, code, message, retryable)
        (self.providerStatus, self.oauthError) = (providerStatus, oauthError)
    }

    public func write(to json: inout JSONWriter) {
        json.beginObject()
        json.key("contract_version"); json.string(contractVersion)
        json.key("request_id")
        if let requestID { json.string(requestID) } else { json.null() }
        json.key("error"); json.beginObject()
        json.key("code"); json.string(code)
        json.key("message"); json.string(message)
        json.key("retryable"); json.bool(retryable)
        if let providerStatus { json.key("provider_status"); json.integer(providerStatus) }
        if let oauthError { json.key("oauth_error"); json.string(oauthError) }
        json.endObject()
        json.endObject()
    }
}

/// The codes of the plain (unsigned) endpoints' flat error body (docs/contract.md §3, §4, §6).
public enum PlainErrorCode: String, Sendable, CaseIterable {
    case notFound = "not_found"
    case methodNotAllowed = "method_not_allowed"
    case payloadTooLarge = "payload_too_large"
    case attestationChallengeFailed = "attestation_challenge_failed"
    case attestationUnavailable = "attestation_unavailable"
    case internalError = "internal_error"

    public var status: Int {
        switch self {
        case .notFound: 404
        case .methodNotAllowed: 405
        case .payloadTooLarge: 413
        case .attestationChallengeFailed: 400
        case .attestationUnavailable: 503
        case .internalError: 500
        }
    }
}

/// The flat error body of the non-RPC endpoints: `{"code":"...","message":"..."}`.
public struct PlainError: WireBody {
    public var code: String
    public var message: String

    public init(_ code: PlainErrorCode, message: String) {
        self.code = code.rawValue
        self.message = message
    }

    public init?(json: JSONValue) {
        guard let code = json["code"]?.string, let message = json["message"]?.string else { return nil }
        (self.code, self.message) = (code, message)
    }

    public func write(to json: inout JSONWriter) {
        json.beginObject()
        json.key("code"); json.string(code)
        json.key("message"); json.string(message)
        json.endObject()
    }
}
