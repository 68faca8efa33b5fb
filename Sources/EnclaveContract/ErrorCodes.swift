/// Every error code of docs/contract.md §6 with its status and retryability.
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
    case storeUnavailable = "store_unavailable"
    case rpcInternalError = "rpc_internal_error"

    public var status: Int {
        switch self {
        case .missingRequestHeader, .invalidRequestHeader, .invalidRequestTimestamp, .invalidRequestSignature,
            .requestReplayDetected:
            401
        case .invalidContractVersion, .invalidRequestPayload, .invalidRequestID, .connectorTokenUnavailable: 400
        case .payloadTooLarge: 413
        case .replayCacheFull, .providerNotConfigured, .storeUnavailable: 503
        case .notFound: 404
        case .methodNotAllowed: 405
        case .decryptNotAuthorized: 403
        case .connectorTokenDecryptFailed, .rpcInternalError: 500
        case .providerUnavailable, .providerFailed, .providerResponseInvalid: 502
        }
    }

    /// `provider_failed` is retryable only for a provider status >= 500: see `isRetryable(providerStatus:)`.
    public var retryable: Bool {
        switch self {
        case .replayCacheFull, .connectorTokenDecryptFailed, .providerUnavailable, .providerResponseInvalid,
            .storeUnavailable, .rpcInternalError:
            true
        default: false
        }
    }

    public func isRetryable(providerStatus: Int?) -> Bool {
        self == .providerFailed ? (providerStatus ?? 0) >= 500 : retryable
    }
}
