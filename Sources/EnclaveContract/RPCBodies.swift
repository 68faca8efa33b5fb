import EnclaveJSON
import Foundation

/// The request and answer bodies of the signed RPCs (docs/contract.md §5).

/// The longest `request_id` accepted (docs/contract.md §2, step 7): an id lands in audit and
/// access-log lines, so a 60 KB one would make a 60 KB line.
public let maxRequestIDBytes = 128

/// A signed RPC's request or answer: each names the request (an answer echoes its id).
public protocol RPCMessage: WireBody {
    var requestID: String { get }
}

public struct ConnectorReference: WireBody, Equatable {
    public var userID: String
    public var connectorID: String

    public init(userID: String, connectorID: String) {
        self.userID = userID
        self.connectorID = connectorID
    }

    public init?(json: JSONValue) {
        guard let userID = json["user_id"]?.string, let connectorID = json["connector_id"]?.string else { return nil }
        self.init(userID: userID, connectorID: connectorID)
    }

    public func write(to json: inout JSONWriter) {
        json.beginObject()
        json.key("user_id"); json.string(userID)
        json.key("connector_id"); json.string(connectorID)
        json.endObject()
    }
}

/// Exchange and revoke requests.
public struct ConnectorRPCRequest: RPCMessage {
    public var contractVersion: String
    public var requestID: String
    public var connector: ConnectorReference

    public init(requestID: String, connector: ConnectorReference, contractVersion: String = EnclaveContract.contractVersion) {
        (self.contractVersion, self.requestID, self.connector) = (contractVersion, requestID, connector)
    }

    public init?(json: JSONValue) {
        guard let contractVersion = json["contract_version"]?.string, let requestID = json["request_id"]?.string,
            let connector = json["connector"].flatMap(ConnectorReference.init(json:))
        else { return nil }
        (self.contractVersion, self.requestID, self.connector) = (contractVersion, requestID, connector)
    }

    public func write(to json: inout JSONWriter) {
        json.beginObject()
        json.key("contract_version"); json.string(contractVersion)
        json.key("request_id"); json.string(requestID)
        json.key("connector"); connector.write(to: &json)
        json.endObject()
    }
}

public struct RegisterRPCRequest: RPCMessage {
    public var contractVersion: String
    public var requestID: String
    public var userID: String
    public var authorizationCode: String
    public var redirectURI: String
    public var codeVerifier: String?

    public init(
        requestID: String, userID: String, authorizationCode: String, redirectURI: String, codeVerifier: String?,
        contractVersion: String = EnclaveContract.contractVersion
    ) {
        (self.contractVersion, self.requestID, self.userID) = (contractVersion, requestID, userID)
        (self.authorizationCode, self.redirectURI, self.codeVerifier) = (authorizationCode, redirectURI, codeVerifier)
    }

    public init?(json: JSONValue) {
        // code_verifier is optional: absent or null is no verifier; any other type is a shape error.
        guard let contractVersion = json["contract_version"]?.string, let requestID = json["request_id"]?.string,
            let userID = json["user_id"]?.string, let authorizationCode = json["authorization_code"]?.string,
            let redirectURI = json["redirect_uri"]?.string, let codeVerifier = OptionalField.string(json["code_verifier"])
        else { return nil }
        self.init(
            requestID: requestID, userID: userID, authorizationCode: authorizationCode, redirectURI: redirectURI,
            codeVerifier: codeVerifier, contractVersion: contractVersion)
    }

    public func write(to json: inout JSONWriter) {
        json.beginObject()
        json.key("contract_version"); json.string(contractVersion)
        json.key("request_id"); json.string(requestID)
        json.key("user_id"); json.string(userID)
        json.key("authorization_code"); json.string(authorizationCode)
        json.key("redirect_uri"); json.string(redirectURI)
        if let codeVerifier { json.key("code_verifier"); json.string(codeVerifier) }
        json.endObject()
    }
}

public struct PingRPCRequest: RPCMessage {
    public var contractVersion: String
    public var requestID: String

    public init(requestID: String, contractVersion: String = EnclaveContract.contractVersion) {
        (self.contractVersion, self.requestID) = (contractVersion, requestID)
    }

    public init?(json: JSONValue) {
        guard let contractVersion = json["contract_version"]?.string, let requestID = json["request_id"]?.string else { return nil }
        (self.contractVersion, self.requestID) = (contractVersion, requestID)
    }

    public func write(to json: inout JSONWriter) {
        json.beginObject()
        json.key("contract_version"); json.string(contractVersion)
        json.key("request_id"); json.string(requestID)
        json.endObject()
    }
}

public struct ExchangeResponse: RPCMessage {
    public var requestID: String
    public var accessToken: String
    public var expiresIn: Int?
    public var scope: String?
    public var attestedIdentity: AttestedIdentity

    public init(requestID: String, accessToken: String, expiresIn: Int?, scope: String?, attestedIdentity: AttestedIdentity) {
        (self.requestID, self.accessToken, self.expiresIn) = (requestID, accessToken, expiresIn)
        (self.scope, self.attestedIdentity) = (scope, attestedIdentity)
    }

    public init?(json: JSONValue) {
        guard let requestID = json["request_id"]?.string, let accessToken = json["access_token"]?.string,
            let expiresIn = OptionalField.integer(json["expires_in"]), let scope = OptionalField.string(json["scope"]),
            let identity = json["attested_identity"].flatMap(AttestedIdentity.init(json:))
        else { return nil }
        self.init(requestID: requestID, accessToken: accessToken, expiresIn: expiresIn, scope: scope, attestedIdentity: identity)
    }

    public func write(to json: inout JSONWriter) {
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

public struct RegisterResponse: RPCMessage {
    public var requestID: String
    public var connector: ConnectorReference
    public var scope: String?
    public var accessToken: String
    public var expiresIn: Int?
    public var attestedIdentity: AttestedIdentity

    public init(
        requestID: String, connector: ConnectorReference, scope: String?, accessToken: String, expiresIn: Int?,
        attestedIdentity: AttestedIdentity
    ) {
        (self.requestID, self.connector, self.scope) = (requestID, connector, scope)
        (self.accessToken, self.expiresIn, self.attestedIdentity) = (accessToken, expiresIn, attestedIdentity)
    }

    public init?(json: JSONValue) {
        guard let requestID = json["request_id"]?.string, let connector = json["connector"].flatMap(ConnectorReference.init(json:)),
            let scope = OptionalField.string(json["scope"]), let accessToken = json["access_token"]?.string,
            let expiresIn = OptionalField.integer(json["expires_in"]),
            let identity = json["attested_identity"].flatMap(AttestedIdentity.init(json:))
        else { return nil }
        self.init(
            requestID: requestID, connector: connector, scope: scope, accessToken: accessToken, expiresIn: expiresIn,
            attestedIdentity: identity)
    }

    public func write(to json: inout JSONWriter) {
        json.beginObject()
        json.key("contract_version"); json.string(contractVersion)
        json.key("request_id"); json.string(requestID)
        json.key("connector"); connector.write(to: &json)
        if let scope { json.key("scope"); json.string(scope) }
        json.key("access_token"); json.string(accessToken)
        if let expiresIn { json.key("expires_in"); json.integer(expiresIn) }
        json.key("attested_identity"); attestedIdentity.write(to: &json)
        json.endObject()
    }
}

/// The ping answer: the acknowledgement and, beyond v1 (docs/contract.md §2a), the Ed25519
/// `binding` of the attested key to this request. The runtime always sends `binding`; a client
/// that checks no binding accepts an answer without one.
public struct PingResponse: RPCMessage {
    public var requestID: String
    public var attestedIdentity: AttestedIdentity
    public var binding: [UInt8]?

    public init(requestID: String, attestedIdentity: AttestedIdentity, binding: [UInt8]?) {
        (self.requestID, self.attestedIdentity, self.binding) = (requestID, attestedIdentity, binding)
    }

    public init?(json: JSONValue) {
        guard let requestID = json["request_id"]?.string,
            let identity = json["attested_identity"].flatMap(AttestedIdentity.init(json:)),
            let text = OptionalField.string(json["binding"])
        else { return nil }
        var binding: [UInt8]?
        if let text {
            guard let bytes = Data(base64Encoded: text) else { return nil }
            binding = [UInt8](bytes)
        }
        self.init(requestID: requestID, attestedIdentity: identity, binding: binding)
    }

    public func write(to json: inout JSONWriter) {
        json.beginObject()
        json.key("contract_version"); json.string(contractVersion)
        json.key("request_id"); json.string(requestID)
        json.key("attested_identity"); attestedIdentity.write(to: &json)
        if let binding { json.key("binding"); json.base64(binding) }
        json.endObject()
    }
}

/// The revoke answer.
public struct AcknowledgementResponse: RPCMessage {
    public var requestID: String
    public var attestedIdentity: AttestedIdentity

    public init(requestID: String, attestedIdentity: AttestedIdentity) {
        (self.requestID, self.attestedIdentity) = (requestID, attestedIdentity)
    }

    public init?(json: JSONValue) {
        guard let requestID = json["request_id"]?.string,
            let identity = json["attested_identity"].flatMap(AttestedIdentity.init(json:))
        else { return nil }
        self.init(requestID: requestID, attestedIdentity: identity)
    }

    public func write(to json: inout JSONWriter) {
        json.beginObject()
        json.key("contract_version"); json.string(contractVersion)
        json.key("request_id"); json.string(requestID)
        json.key("attested_identity"); attestedIdentity.write(to: &json)
        json.endObject()
    }
}
