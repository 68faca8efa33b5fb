import AsyncHTTPClient
import EnclaveContract
import EnclaveCrypto
import EnclaveHTTP
import Foundation
import NIOCore
import NIOHTTP1

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

/// Told of every call a host makes to the enclave: for its metrics.
public protocol EnclaveCallObserver: Sendable {
    /// `operation` is the RPC (ping, exchange, revoke, register); `outcome` is `ok` or the error's
    /// code (`answer_not_authenticated` for an answer whose response signature did not verify).
    func enclaveCall(_ operation: String, outcome: String, duration: Duration)
}

/// Signed RPC client for the enclave runtime (docs/contract.md §2, §2a, §5, §6): a fresh 128-bit
/// nonce and request id per call, the signature from the C core, and no answer trusted before its
/// response signature verifies for this very request; then the request id echo is checked. Each
/// call, body included, ends by its deadline; connections are reused by AsyncHTTPClient's pool.
public final class EnclaveRPCClient: Sendable {
    private let baseURL: String
    private let signer: RPCSigner
    private let transport: EnclaveTransport
    private let timeout: Duration
    private let now: @Sendable () -> Int64
    private let observer: (any EnclaveCallObserver)?

    /// `httpClient` should follow no redirect (`BoundedCall.makeClient`): a signed request is
    /// never sent on to another origin.
    public convenience init(
        baseURL: URL, secret: [UInt8], httpClient: HTTPClient, timeoutMilliseconds: Int,
        now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }, observer: (any EnclaveCallObserver)? = nil
    ) throws {
        try self.init(
            baseURL: baseURL, secret: secret, transport: .plain(httpClient), timeoutMilliseconds: timeoutMilliseconds, now: now,
            observer: observer)
    }

    public init(
        baseURL: URL, secret: [UInt8], transport: EnclaveTransport, timeoutMilliseconds: Int,
        now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }, observer: (any EnclaveCallObserver)? = nil
    ) throws {
        self.observer = observer
        self.baseURL = baseURL.absoluteString.hasSuffix("/") ? String(baseURL.absoluteString.dropLast()) : baseURL.absoluteString
        signer = try RPCSigner(secret: secret)
        self.transport = transport
        timeout = .milliseconds(timeoutMilliseconds)
        self.now = now
    }

    /// A signed ping. With `bindingKey` (the Ed25519 key the host verified evidence with), its
    /// `binding` must verify for this request: only the holder of the attested key can answer.
    /// With attested TLS the key is the one of the connection that carried the answer.
    public func ping(bindingKey: [UInt8]?) async throws(EnclaveRPCError) -> AttestedIdentity {
        let requestID = Self.newRequestID()
        let (answer, signature, channelKey) = try await call(.ping, PingRPCRequest(requestID: requestID), answer: PingResponse.self)
        if let bindingKey = channelKey ?? bindingKey {
            guard let binding = answer.binding,
                let message = try? PingBinding.message(requestID: requestID, requestSignature: signature),
                Ed25519.verify(publicKey: bindingKey, message: message, signature: binding)
            else { throw .notAuthenticated("the ping's binding does not verify with the attested key", status: 200) }
        }
        return answer.attestedIdentity
    }

    /// `requestID` names the call in both sides' audit trails; a fresh one when nil.
    public func exchange(userID: String, connectorID: String, requestID: String? = nil) async throws(EnclaveRPCError) -> AccessTokenGrant {
        let request = ConnectorRPCRequest(
            requestID: requestID ?? Self.newRequestID(), connector: ConnectorReference(userID: userID, connectorID: connectorID))
        let (answer, _, _) = try await call(.exchange, request, answer: ExchangeResponse.self)
        return AccessTokenGrant(accessToken: answer.accessToken, expiresIn: answer.expiresIn, scope: answer.scope)
    }

    public func revoke(userID: String, connectorID: String, requestID: String? = nil) async throws(EnclaveRPCError) {
        let request = ConnectorRPCRequest(
            requestID: requestID ?? Self.newRequestID(), connector: ConnectorReference(userID: userID, connectorID: connectorID))
        _ = try await call(.revoke, request, answer: AcknowledgementResponse.self)
    }

    public func register(
        userID: String, authorizationCode: String, redirectURI: String, codeVerifier: String?, requestID: String? = nil
    ) async throws(EnclaveRPCError) -> RegisteredConnector {
        let request = RegisterRPCRequest(
            requestID: requestID ?? Self.newRequestID(), userID: userID, authorizationCode: authorizationCode,
            redirectURI: redirectURI, codeVerifier: codeVerifier)
        let (answer, _, _) = try await call(.register, request, answer: RegisterResponse.self)
        return RegisteredConnector(
            connectorID: answer.connector.connectorID, accessToken: answer.accessToken, expiresIn: answer.expiresIn,
            scope: answer.scope)
    }

    /// The signed RPCs this client calls, one method each (a test holds it to the contract's table).
    public static let routes: [ContractRoute] = [.ping, .exchange, .revoke, .register]

    static func newRequestID() -> String { UUID().uuidString.lowercased() }

    /// Sends one signed request, observed; returns the decoded answer, the request's signature
    /// and (attested TLS) the key of the connection that carried the answer.
    private func call<Request: RPCMessage, Answer: RPCMessage>(
        _ route: ContractRoute, _ request: Request, answer: Answer.Type
    ) async throws(EnclaveRPCError) -> (Answer, String, [UInt8]?) {
        guard let observer else { return try await unobservedCall(route.path, request, answer: answer) }
        let started = ContinuousClock.now
        let operation = Self.operations[route.path] ?? "other"
        do {
            let result = try await unobservedCall(route.path, request, answer: answer)
            observer.enclaveCall(operation, outcome: "ok", duration: ContinuousClock.now - started)
            return result
        } catch {
            observer.enclaveCall(operation, outcome: error.code, duration: ContinuousClock.now - started)
            throw error
        }
    }

    static let operations = [
        ContractRoute.ping.path: "ping", ContractRoute.exchange.path: "exchange", ContractRoute.revoke.path: "revoke",
        ContractRoute.register.path: "register",
    ]

    private func unobservedCall<Request: RPCMessage, Answer: RPCMessage>(
        _ path: String, _ rpc: Request, answer: Answer.Type
    ) async throws(EnclaveRPCError) -> (Answer, String, [UInt8]?) {
        let bytes = rpc.jsonBytes
        let timestamp = String(now())
        let nonce = (try? SecureRandom.bytes(16))?.map { String(format: "%02x", $0) }.joined() ?? ""
        guard nonce.count == 32 else { throw .unreachable("no randomness for the request nonce") }
        let signature = signer.signature(path: path, timestamp: timestamp, nonce: nonce, body: bytes)
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: RPCHeader.version, value: contractVersion)
        headers.add(name: RPCHeader.timestamp, value: timestamp)
        headers.add(name: RPCHeader.nonce, value: nonce)
        headers.add(name: RPCHeader.signature, value: signature)

        let status: Int
        let answer: [UInt8]
        let channelKey: [UInt8]?
        do {
            let (response, key) = try await transport.send(.POST, baseURL + path, headers: headers, body: bytes, timeout: timeout, maxBodyBytes: 1 << 20)
            channelKey = key
            status = response.status
            answer = Array(response.body.readableBytesView)
            // docs/contract.md §2a: nothing in the answer is believed before this holds.
            let signatures = response.headers[RPCHeader.responseSignature]
            guard signatures.count == 1,
                signer.verifiesResponse(requestSignature: signature, status: status, body: answer, responseSignature: signatures[0])
            else {
                let claimed = Self.decodeError(status: status, body: answer).code
                throw EnclaveRPCError.notAuthenticated(
                    "the answer to \(path) (status \(status)) carries no valid response signature", status: status, claimed: claimed)
            }
        } catch let error as EnclaveRPCError {
            throw error
        } catch let failure as EnclaveTransport.Failure where failure == .call(.timedOut) {
            throw .unreachable("the enclave runtime did not answer \(path) in time")
        } catch let failure as EnclaveTransport.Failure {
            // docs/contract.md §2b: a channel that does not prove the enclave is not authenticated.
            if case .notAttested(let detail) = failure {
                throw EnclaveRPCError.notAuthenticated(
                    "the channel for \(path) is not attested: \(detail)", status: nil, claimed: EnclaveRPCError.channelNotAttested)
            }
            throw .unreachable("the enclave runtime could not be reached for \(path)")
        } catch {
            throw .unreachable("the enclave runtime could not be reached for \(path)")
        }
        guard (200..<300).contains(status) else { throw Self.decodeError(status: status, body: answer) }
        guard let decoded = Answer(jsonBytes: answer) else {
            throw .invalidResponse("the answer to \(path) is not the contract's shape", status: status)
        }
        // The answer must belong to this request.
        guard decoded.requestID == rpc.requestID else {
            throw .invalidResponse("the answer to \(path) echoes another request_id", status: status)
        }
        return (decoded, signature, channelKey)
    }

    static func decodeError(status: Int, body: [UInt8]) -> EnclaveRPCError {
        guard let envelope = ErrorEnvelope(jsonBytes: body) else {
            return .invalidResponse("status \(status) without the error envelope", status: status)
        }
        return EnclaveRPCError(
            status: status, code: envelope.code, message: envelope.message, retryable: envelope.retryable,
            providerStatus: envelope.providerStatus, oauthError: envelope.oauthError)
    }
}
