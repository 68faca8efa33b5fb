/// JSON bodies of CONTRACT.md sections 4 and 5. Field names are the wire names.

public let wireContractVersion = "v1"

public struct ConnectorReference: Codable, Sendable, Equatable {
    public var userID: String
    public var connectorID: String

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case connectorID = "connector_id"
    }
}

/// Exchange and revoke requests.
struct ConnectorRPCRequest: Decodable {
    var contractVersion: String
    var requestID: String
    var connector: ConnectorReference

    enum CodingKeys: String, CodingKey {
        case contractVersion = "contract_version"
        case requestID = "request_id"
        case connector
    }
}

struct RegisterRPCRequest: Decodable {
    var contractVersion: String
    var requestID: String
    var userID: String
    var authorizationCode: String
    var redirectURI: String
    var codeVerifier: String?

    enum CodingKeys: String, CodingKey {
        case contractVersion = "contract_version"
        case requestID = "request_id"
        case userID = "user_id"
        case authorizationCode = "authorization_code"
        case redirectURI = "redirect_uri"
        case codeVerifier = "code_verifier"
    }
}

struct PingRPCRequest: Decodable {
    var contractVersion: String
    var requestID: String

    enum CodingKeys: String, CodingKey {
        case contractVersion = "contract_version"
        case requestID = "request_id"
    }
}

/// Only `request_id`, read leniently so that an envelope can echo it after a shape error.
struct RequestIDProbe: Decodable {
    var requestID: String?
    enum CodingKeys: String, CodingKey { case requestID = "request_id" }
}

public struct AttestedIdentity: Codable, Sendable, Equatable {
    public var runtime: String
    public var measurement: String
}

struct ExchangeResponse: Encodable {
    var contractVersion = wireContractVersion
    var requestID: String
    var accessToken: String
    var expiresIn: Int?
    var scope: String?
    var attestedIdentity: AttestedIdentity

    enum CodingKeys: String, CodingKey {
        case contractVersion = "contract_version"
        case requestID = "request_id"
        case accessToken = "access_token"
        case expiresIn = "expires_in"
        case scope
        case attestedIdentity = "attested_identity"
    }
}

struct RegisterResponse: Encodable {
    var contractVersion = wireContractVersion
    var requestID: String
    var connector: ConnectorReference
    var scope: String?
    var accessToken: String
    var expiresIn: Int?
    var attestedIdentity: AttestedIdentity

    enum CodingKeys: String, CodingKey {
        case contractVersion = "contract_version"
        case requestID = "request_id"
        case connector, scope
        case accessToken = "access_token"
        case expiresIn = "expires_in"
        case attestedIdentity = "attested_identity"
    }
}

/// Revoke and ping answers.
struct AcknowledgementResponse: Encodable {
    var contractVersion = wireContractVersion
    var requestID: String
    var attestedIdentity: AttestedIdentity

    enum CodingKeys: String, CodingKey {
        case contractVersion = "contract_version"
        case requestID = "request_id"
        case attestedIdentity = "attested_identity"
    }
}

struct ErrorEnvelope: Encodable {
    var requestID: String?
    var error: RPCError

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(wireContractVersion, forKey: .contractVersion)
        // request_id is null, not absent, before step 7 of the verification order.
        try container.encode(requestID, forKey: .requestID)
        var body = container.nestedContainer(keyedBy: Keys.self, forKey: .error)
        try body.encode(error.code.rawValue, forKey: .code)
        try body.encode(error.message, forKey: .message)
        try body.encode(error.retryable, forKey: .retryable)
        if error.code == .providerFailed {
            try body.encodeIfPresent(error.providerStatus, forKey: .providerStatus)
            try body.encodeIfPresent(error.oauthError, forKey: .oauthError)
        }
    }

    enum Keys: String, CodingKey {
        case contractVersion = "contract_version"
        case requestID = "request_id"
        case error, code, message, retryable
        case providerStatus = "provider_status"
        case oauthError = "oauth_error"
    }
}

/// The flat error body of the non-RPC endpoints: `{"code":"...","message":"..."}`.
struct PlainError: Encodable {
    var code: String
    var message: String
}

struct HealthResponse: Encodable {
    var status = "ok"
    var environment: String
    var mode: String
}

/// CONTRACT.md section 4 request.
struct ChallengeRequest: Decodable {
    var challengeNonce: String
    var issuedAt: Int64
    var expiresAt: Int64
    var operationPurpose: String
    var requestID: String

    enum CodingKeys: String, CodingKey {
        case challengeNonce = "challenge_nonce"
        case issuedAt = "issued_at"
        case expiresAt = "expires_at"
        case operationPurpose = "operation_purpose"
        case requestID = "request_id"
    }
}

struct ChallengeResponse: Encodable {
    var runtime: String
    var measurement: String
    var challengeNonce: String
    var issuedAt: Int64
    var expiresAt: Int64
    var operationPurpose: String
    var requestID: String
    var evidenceIssuedAt: Int64
    var signature: String

    enum CodingKeys: String, CodingKey {
        case runtime, measurement
        case challengeNonce = "challenge_nonce"
        case issuedAt = "issued_at"
        case expiresAt = "expires_at"
        case operationPurpose = "operation_purpose"
        case requestID = "request_id"
        case evidenceIssuedAt = "evidence_issued_at"
        case signature
    }
}
