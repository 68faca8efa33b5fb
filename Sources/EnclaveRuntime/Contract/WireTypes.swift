import EnclaveContract
import EnclaveJSON
/// JSON bodies of docs/contract.md §4 and §5. Field names are the wire names.

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

    public init(userID: String, connectorID: String) {
        self.userID = userID
        self.connectorID = connectorID
    }

    init?(json: JSONValue?) {
        guard let json, let userID = json["user_id"]?.string, let connectorID = json["connector_id"]?.string else { return nil }
        self.init(userID: userID, connectorID: connectorID)
    }

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case connectorID = "connector_id"
    }
}

/// A request body read with `JSONValue` (field names are the wire names); nil when a required
/// field is missing or of another JSON type. Unknown fields are ignored.
protocol JSONRequestBody {
    init?(json: JSONValue)
}

/// Exchange and revoke requests.
struct ConnectorRPCRequest: JSONRequestBody {
    var contractVersion: String
    var requestID: String
    var connector: ConnectorReference

    init?(json: JSONValue) {
        guard let contractVersion = json["contract_version"]?.string, let requestID = json["request_id"]?.string,
            let connector = ConnectorReference(json: json["connector"])
        else { return nil }
        (self.contractVersion, self.requestID, self.connector) = (contractVersion, requestID, connector)
    }
}

struct RegisterRPCRequest: JSONRequestBody {
    var contractVersion: String
    var requestID: String
    var userID: String
    var authorizationCode: String
    var redirectURI: String
    var codeVerifier: String?

    init?(json: JSONValue) {
        guard let contractVersion = json["contract_version"]?.string, let requestID = json["request_id"]?.string,
            let userID = json["user_id"]?.string, let authorizationCode = json["authorization_code"]?.string,
            let redirectURI = json["redirect_uri"]?.string
        else { return nil }
        // Optional: absent or null is no verifier; any other type is a shape error.
        switch json["code_verifier"] {
        case nil, .null?: codeVerifier = nil
        case .string(let verifier)?: codeVerifier = verifier
        default: return nil
        }
        (self.contractVersion, self.requestID, self.userID) = (contractVersion, requestID, userID)
        (self.authorizationCode, self.redirectURI) = (authorizationCode, redirectURI)
    }
}

struct PingRPCRequest: JSONRequestBody {
    var contractVersion: String
    var requestID: String

    init?(json: JSONValue) {
        guard let contractVersion = json["contract_version"]?.string, let requestID = json["request_id"]?.string else { return nil }
        (self.contractVersion, self.requestID) = (contractVersion, requestID)
    }
}

extension AttestedIdentity {
    func write(to json: inout JSONWriter) {
        json.beginObject()
        json.key("runtime"); json.string(runtime)
        json.key("measurement"); json.string(measurement)
        json.endObject()
    }
}

/// `attested_identity` as JSON text, rendered once: it is the same in every answer of a process.
struct RenderedIdentity: Sendable {
    let json: [UInt8]

    init(_ identity: AttestedIdentity) {
        var writer = JSONWriter(capacity: 128)
        identity.write(to: &writer)
        json = writer.finish()
    }

    func write(to json: inout JSONWriter) {
        json.raw(self.json.span)
    }
}

struct ExchangeResponse: JSONResponseBody {
    var requestID: String
    var accessToken: String
    var expiresIn: Int?
    var scope: String?
    var attestedIdentity: RenderedIdentity

    func write(to json: inout JSONWriter) {
        json.beginObject()
        json.key("contract_version"); json.string(contractVersion)
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
    var attestedIdentity: RenderedIdentity

    func write(to json: inout JSONWriter) {
        json.beginObject()
        json.key("contract_version"); json.string(contractVersion)
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

/// The ping answer: the acknowledgement and, beyond v1 (section 2a), the Ed25519 `binding` of the
/// attested key to this request.
struct PingResponse: JSONResponseBody {
    var requestID: String
    var attestedIdentity: RenderedIdentity
    var binding: [UInt8]

    func write(to json: inout JSONWriter) {
        json.beginObject()
        json.key("contract_version"); json.string(contractVersion)
        json.key("request_id"); json.string(requestID)
        json.key("attested_identity"); attestedIdentity.write(to: &json)
        json.key("binding"); json.base64(binding)
        json.endObject()
    }
}

/// The revoke answer.
struct AcknowledgementResponse: JSONResponseBody {
    var requestID: String
    var attestedIdentity: RenderedIdentity

    func write(to json: inout JSONWriter) {
        json.beginObject()
        json.key("contract_version"); json.string(contractVersion)
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
        json.key("contract_version"); json.string(contractVersion)
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
    /// Beyond v1: the store's kind and whether it answered its latest check.
    var store: String
    var storeReachable: Bool

    func write(to json: inout JSONWriter) {
        json.beginObject()
        json.key("status"); json.string("ok")
        json.key("environment"); json.string(environment)
        json.key("mode"); json.string(mode)
        json.key("store"); json.string(store)
        json.key("store_reachable"); json.bool(storeReachable)
        json.endObject()
    }
}

/// docs/contract.md §4 request.
struct ChallengeRequest: JSONRequestBody {
    var challengeNonce: String
    var issuedAt: Int64
    var expiresAt: Int64
    var operationPurpose: String
    var requestID: String

    init?(json: JSONValue) {
        guard let challengeNonce = json["challenge_nonce"]?.string, let issuedAt = json["issued_at"]?.integer,
            let expiresAt = json["expires_at"]?.integer, let operationPurpose = json["operation_purpose"]?.string,
            let requestID = json["request_id"]?.string
        else { return nil }
        (self.challengeNonce, self.issuedAt, self.expiresAt) = (challengeNonce, issuedAt, expiresAt)
        (self.operationPurpose, self.requestID) = (operationPurpose, requestID)
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
    /// Beyond v1 (section 3a): base64 of the latest NSM document.
    var attestationDocument: String?

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
        if let attestationDocument { json.key("attestation_document"); json.string(attestationDocument) }
        json.endObject()
    }
}
