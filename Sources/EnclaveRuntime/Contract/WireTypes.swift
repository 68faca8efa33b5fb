import EnclaveJSON
/// JSON bodies of CONTRACT.md sections 4 and 5. Field names are the wire names.

public let wireContractVersion = "v1"

/// A response body written with `JSONWriter`, in the contract's field order.
protocol JSONResponseBody {
    func write(to json: inout JSONWriter)
}

extension JSONResponseBody {
    var jsonBytes: [UInt8] {
        var json = JSONWriter()
        write(to: &json)
        return json.finish()
    }
}

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

    func write(to json: inout JSONWriter) {
        json.beginObject()
        json.key("runtime"); json.string(runtime)
        json.key("measurement"); json.string(measurement)
        json.endObject()
    }
}

struct ExchangeResponse: JSONResponseBody {
    var requestID: String
    var accessToken: String
    var expiresIn: Int?
    var scope: String?
    var attestedIdentity: AttestedIdentity

    func write(to json: inout JSONWriter) {
        json.beginObject()
        json.key("contract_version"); json.string(wireContractVersion)
        json.key("request_id"); json.string(requestID)
        json.key("access_token"); json.string(accessToken)
        if let expiresIn { json.key("expires_in"); json.integer(expiresIn) }
        if let scope { json.key("scope"); json.string(scope) }
        json.key("attested_identity"); attestedIdentity.write(to: &json)
        json.endObject()
    }
}

struct RegisterResponse: JSONResponseBody {
    var requestID: String
    var connector: ConnectorReference
    var scope: String?
    var accessToken: String
    var expiresIn: Int?
    var attestedIdentity: AttestedIdentity

    func write(to json: inout JSONWriter) {
        json.beginObject()
        json.key("contract_version"); json.string(wireContractVersion)
        json.key("request_id"); json.string(requestID)
        json.key("connector"); json.beginObject()
        json.key("user_id"); json.string(connector.userID)
        json.key("connector_id"); json.string(connector.connectorID)
        json.endObject()
        if let scope { json.key("scope"); json.string(scope) }
        json.key("access_token"); json.string(accessToken)
        if let expiresIn { json.key("expires_in"); json.integer(expiresIn) }
        json.key("attested_identity"); attestedIdentity.write(to: &json)
        json.endObject()
    }
}

/// Revoke and ping answers.
struct AcknowledgementResponse: JSONResponseBody {
    var requestID: String
    var attestedIdentity: AttestedIdentity

    func write(to json: inout JSONWriter) {
        json.beginObject()
        json.key("contract_version"); json.string(wireContractVersion)
        json.key("request_id"); json.string(requestID)
        json.key("attested_identity"); attestedIdentity.write(to: &json)
        json.endObject()
    }
}

struct ErrorEnvelope: JSONResponseBody {
    var requestID: String?
    var error: RPCError

    func write(to json: inout JSONWriter) {
        json.beginObject()
        json.key("contract_version"); json.string(wireContractVersion)
        // request_id is null, not absent, before step 7 of the verification order.
        json.key("request_id")
        if let requestID { json.string(requestID) } else { json.null() }
        json.key("error"); json.beginObject()
        json.key("code"); json.string(error.code.rawValue)
        json.key("message"); json.string(error.message)
        json.key("retryable"); json.bool(error.retryable)
        if error.code == .providerFailed {
            if let status = error.providerStatus { json.key("provider_status"); json.integer(status) }
            if let oauthError = error.oauthError { json.key("oauth_error"); json.string(oauthError) }
        }
        json.endObject()
        json.endObject()
    }
}

/// The flat error body of the non-RPC endpoints: `{"code":"...","message":"..."}`.
struct PlainError: JSONResponseBody {
    var code: String
    var message: String

    func write(to json: inout JSONWriter) {
        json.beginObject()
        json.key("code"); json.string(code)
        json.key("message"); json.string(message)
        json.endObject()
    }
}

struct HealthResponse: JSONResponseBody {
    var environment: String
    var mode: String

    func write(to json: inout JSONWriter) {
        json.beginObject()
        json.key("status"); json.string("ok")
        json.key("environment"); json.string(environment)
        json.key("mode"); json.string(mode)
        json.endObject()
    }
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

struct ChallengeResponse: JSONResponseBody {
    var runtime: String
    var measurement: String
    var challengeNonce: String
    var issuedAt: Int64
    var expiresAt: Int64
    var operationPurpose: String
    var requestID: String
    var evidenceIssuedAt: Int64
    var signature: String

    func write(to json: inout JSONWriter) {
        json.beginObject()
        json.key("runtime"); json.string(runtime)
        json.key("measurement"); json.string(measurement)
        json.key("challenge_nonce"); json.string(challengeNonce)
        json.key("issued_at"); json.integer(issuedAt)
        json.key("expires_at"); json.integer(expiresAt)
        json.key("operation_purpose"); json.string(operationPurpose)
        json.key("request_id"); json.string(requestID)
        json.key("evidence_issued_at"); json.integer(evidenceIssuedAt)
        json.key("signature"); json.string(signature)
        json.endObject()
    }
}
