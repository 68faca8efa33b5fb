import AsyncHTTPClient
import EnclaveCrypto
import Foundation
import NIOCore

/// The attested identity the enclave reports with every successful RPC.
public struct AttestedIdentity: Codable, Sendable, Equatable {
    public var runtime: String
    public var measurement: String
}

public struct AccessTokenGrant: Sendable, Equatable {
    public var accessToken: String
    public var expiresIn: Int?
    public var scope: String?
}

public struct RegisteredConnector: Sendable, Equatable {
    public var connectorID: String
    public var accessToken: String
    public var expiresIn: Int?
    public var scope: String?
}

/// Signed RPC client for the enclave runtime (CONTRACT.md sections 2, 5, 6): a fresh 128-bit
/// nonce and request id per call, the signature from the C core, the request id echo checked,
/// a deadline on every call, connections reused by AsyncHTTPClient's pool.
public final class EnclaveRPCClient: Sendable {
    private let baseURL: String
    private let signer: RPCSigner
    private let http: HTTPClient
    private let timeout: TimeAmount
    private let now: @Sendable () -> Int64

    public init(
        baseURL: URL, secret: [UInt8], httpClient: HTTPClient = .shared, timeoutMilliseconds: Int,
        now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    ) throws {
        self.baseURL = baseURL.absoluteString.hasSuffix("/") ? String(baseURL.absoluteString.dropLast()) : baseURL.absoluteString
        signer = try RPCSigner(secret: secret)
        http = httpClient
        timeout = .milliseconds(Int64(timeoutMilliseconds))
        self.now = now
    }

    public func ping() async throws(EnclaveRPCError) -> AttestedIdentity {
        struct Answer: Decodable { var request_id: String; var attested_identity: AttestedIdentity }
        let requestID = Self.newRequestID()
        let answer: Answer = try await call("/v1/rpc/ping", ["contract_version": "v1", "request_id": requestID], requestID: requestID)
        return answer.attested_identity
    }

    public func exchange(userID: String, connectorID: String) async throws(EnclaveRPCError) -> AccessTokenGrant {
        struct Answer: Decodable { var request_id: String; var access_token: String; var expires_in: Int?; var scope: String? }
        let requestID = Self.newRequestID()
        let answer: Answer = try await call(
            "/v1/rpc/google/token/exchange", Self.connectorBody(requestID, userID, connectorID), requestID: requestID)
        return AccessTokenGrant(accessToken: answer.access_token, expiresIn: answer.expires_in, scope: answer.scope)
    }

    public func revoke(userID: String, connectorID: String) async throws(EnclaveRPCError) {
        struct Answer: Decodable { var request_id: String }
        let requestID = Self.newRequestID()
        let _: Answer = try await call(
            "/v1/rpc/google/token/revoke", Self.connectorBody(requestID, userID, connectorID), requestID: requestID)
    }

    public func register(
        userID: String, authorizationCode: String, redirectURI: String, codeVerifier: String?
    ) async throws(EnclaveRPCError) -> RegisteredConnector {
        struct Connector: Decodable { var connector_id: String }
        struct Answer: Decodable {
            var request_id: String; var connector: Connector; var access_token: String; var expires_in: Int?; var scope: String?
        }
        let requestID = Self.newRequestID()
        var body: [String: Any] = [
            "contract_version": "v1", "request_id": requestID, "user_id": userID, "authorization_code": authorizationCode,
            "redirect_uri": redirectURI,
        ]
        if let codeVerifier { body["code_verifier"] = codeVerifier }
        let answer: Answer = try await call("/v1/rpc/google/connector/register", body, requestID: requestID)
        return RegisteredConnector(
            connectorID: answer.connector.connector_id, accessToken: answer.access_token, expiresIn: answer.expires_in,
            scope: answer.scope)
    }

    static func newRequestID() -> String { UUID().uuidString.lowercased() }

    static func connectorBody(_ requestID: String, _ userID: String, _ connectorID: String) -> [String: Any] {
        ["contract_version": "v1", "request_id": requestID, "connector": ["user_id": userID, "connector_id": connectorID]]
    }

    private func call<Answer: Decodable>(_ path: String, _ object: [String: Any], requestID: String) async throws(EnclaveRPCError) -> Answer {
        guard let body = try? JSONSerialization.data(withJSONObject: object) else {
            throw .invalidResponse("the request could not be encoded", status: nil)
        }
        let bytes = [UInt8](body)
        let timestamp = String(now())
        let nonce = (try? SecureRandom.bytes(16))?.map { String(format: "%02x", $0) }.joined() ?? ""
        guard nonce.count == 32 else { throw .unreachable("no randomness for the request nonce") }
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "x-alfred-rpc-version", value: "v1")
        request.headers.add(name: "x-alfred-rpc-ts", value: timestamp)
        request.headers.add(name: "x-alfred-rpc-nonce", value: nonce)
        request.headers.add(
            name: "x-alfred-rpc-signature",
            value: signer.signature(path: path, timestamp: timestamp, nonce: nonce, body: bytes))
        request.body = .bytes(ByteBuffer(bytes: bytes))

        let status: Int
        let answer: [UInt8]
        do {
            let response = try await http.execute(request, deadline: .now() + timeout)
            status = Int(response.status.code)
            answer = Array(try await response.body.collect(upTo: 1 << 20).readableBytesView)
        } catch {
            throw .unreachable("the enclave runtime did not answer \(path) in time")
        }
        guard (200..<300).contains(status) else { throw Self.decodeError(status: status, body: answer) }
        guard let decoded = try? JSONDecoder().decode(Answer.self, from: Data(answer)) else {
            throw .invalidResponse("the answer to \(path) is not the contract's shape", status: status)
        }
        // The answer must belong to this request.
        guard (try? JSONDecoder().decode(RequestIDEcho.self, from: Data(answer)))?.request_id == requestID else {
            throw .invalidResponse("the answer to \(path) echoes another request_id", status: status)
        }
        return decoded
    }

    struct RequestIDEcho: Decodable { var request_id: String }

    static func decodeError(status: Int, body: [UInt8]) -> EnclaveRPCError {
        struct Envelope: Decodable {
            struct Body: Decodable {
                var code: String; var message: String; var retryable: Bool; var provider_status: Int?; var oauth_error: String?
            }
            var error: Body
        }
        guard let envelope = try? JSONDecoder().decode(Envelope.self, from: Data(body)) else {
            return .invalidResponse("status \(status) without the error envelope", status: status)
        }
        let e = envelope.error
        return EnclaveRPCError(
            status: status, code: e.code, message: e.message, retryable: e.retryable, providerStatus: e.provider_status,
            oauthError: e.oauth_error)
    }
}
