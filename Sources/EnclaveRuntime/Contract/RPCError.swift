import HTTPTypes

/// Every error code of CONTRACT.md section 6 with its status and retryability.
public enum RPCErrorCode: String, Sendable, CaseIterable {
    case missingRequestHeader = "missing_request_header"
    case invalidRequestHeader = "invalid_request_header"
    case invalidRequestTimestamp = "invalid_request_timestamp"
    case invalidRequestSignature = "invalid_request_signature"
    case requestReplayDetected = "request_replay_detected"
    case invalidContractVersion = "invalid_contract_version"
    case invalidRequestPayload = "invalid_request_payload"
    case invalidRequestID = "invalid_request_id"
    case payloadTooLarge = "payload_too_large"
    case replayCacheFull = "replay_cache_full"
    case notFound = "not_found"
    case methodNotAllowed = "method_not_allowed"
    case connectorTokenUnavailable = "connector_token_unavailable"
    case decryptNotAuthorized = "decrypt_not_authorized"
    case connectorTokenDecryptFailed = "connector_token_decrypt_failed"
    case providerNotConfigured = "provider_not_configured"
    case providerUnavailable = "provider_unavailable"
    case providerFailed = "provider_failed"
    case providerResponseInvalid = "provider_response_invalid"
    case rpcInternalError = "rpc_internal_error"

    public var status: HTTPResponse.Status {
        switch self {
        case .missingRequestHeader, .invalidRequestHeader, .invalidRequestTimestamp, .invalidRequestSignature,
            .requestReplayDetected:
            return .unauthorized
        case .invalidContractVersion, .invalidRequestPayload, .invalidRequestID, .connectorTokenUnavailable:
            return .badRequest
        case .payloadTooLarge: return .contentTooLarge
        case .replayCacheFull, .providerNotConfigured: return .serviceUnavailable
        case .notFound: return .notFound
        case .methodNotAllowed: return .methodNotAllowed
        case .decryptNotAuthorized: return .forbidden
        case .connectorTokenDecryptFailed, .rpcInternalError: return .internalServerError
        case .providerUnavailable, .providerFailed, .providerResponseInvalid: return .badGateway
        }
    }

    /// `provider_failed` is retryable only for a provider status >= 500 (see `RPCError.retryable`).
    var retryable: Bool {
        switch self {
        case .replayCacheFull, .connectorTokenDecryptFailed, .providerUnavailable, .providerResponseInvalid,
            .rpcInternalError:
            return true
        default: return false
        }
    }
}

/// A failed RPC, rendered as the error envelope. `message` is fixed text chosen by the runtime:
/// it never carries a secret, a token or the request body.
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

    public var retryable: Bool {
        code == .providerFailed ? (providerStatus ?? 0) >= 500 : code.retryable
    }
}
