import EnclaveClient
import EnclaveConfiguration
import EnclaveContract
import EnclaveCrypto
import EnclaveLogging
import EnclaveStorage
import Foundation
import HostServices
import Hummingbird
import Logging
import NIOCore

/// The api's endpoints: everything but /healthz behind `Authorization: Bearer API_INTERNAL_TOKEN`,
/// each request audited (`AuditMiddleware`).
struct APIRoutes: Sendable {
    let client: EnclaveRPCClient
    let jobs: any JobStore
    let token: BearerToken
    let identity: VerifiedAttestation?
    let audit: AuditTrail
    let metrics: HostMetrics?

    static let registerRoute = "/v1/connectors/google"
    static let accessTokenRoute = "/v1/connectors/google/:connector_id/access-token"
    static let revokeRoute = "/v1/connectors/google/:connector_id"
    static let jobRoute = "/v1/jobs/:id"

    func build() -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        router.get("/healthz") { _, _ in
            Self.json(.ok, [
                "status": "ok",
                "enclave": identity.map { ["runtime": $0.runtime, "measurement": $0.measurement] } ?? NSNull(),
                "last_verified_at": identity.map { $0.verifiedAt } ?? NSNull(),
            ] as [String: Any])
        }
        let api = router.group()
            .add(middleware: AuditMiddleware(audit: AuditRecorder(trail: audit), metrics: metrics))
            .add(middleware: BearerTokenMiddleware(token: token))
            .add(middleware: HostErrorMiddleware())
        api.post(.init(stringLiteral: Self.registerRoute)) { request, context in try await register(request, context: context) }
        api.post(.init(stringLiteral: Self.accessTokenRoute)) { request, context in
            return try await accessToken(request, connectorID: context.parameters.get("connector_id") ?? "", context: context)
        }
        api.delete(.init(stringLiteral: Self.revokeRoute)) { request, context in
            return try await revoke(request, connectorID: context.parameters.get("connector_id") ?? "", context: context)
        }
        api.get(.init(stringLiteral: Self.jobRoute)) { _, context in try await job(context.parameters.get("id") ?? "", context: context) }
        return router
    }

    func register(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let object = try await Self.jsonObject(request),
            let userID = object["user_id"] as? String, UUIDSyntax.isValid(userID),
            let code = object["authorization_code"] as? String, !code.isEmpty,
            let redirect = object["redirect_uri"] as? String, !redirect.isEmpty,
            case .valid(let codeVerifier) = Self.optionalText(object["code_verifier"])
        else {
            return Self.error(.badRequest, "invalid_request",
                              "user_id (uuid), authorization_code and redirect_uri are required; code_verifier, when sent, is a non-empty string",
                              context: context)
        }
        let requestID = Self.newRequestID()
        (context.audit.userID, context.audit.requestID) = (userID.lowercased(), requestID)
        do {
            let connector = try await client.register(
                userID: userID, authorizationCode: code, redirectURI: redirect, codeVerifier: codeVerifier, requestID: requestID)
            context.audit.connectorID = connector.connectorID
            return Self.json(.ok, [
                "connector_id": connector.connectorID, "scope": connector.scope ?? NSNull(), "access_token": connector.accessToken,
                "expires_in": connector.expiresIn ?? NSNull(),
            ] as [String: Any])
        } catch {
            return Self.enclaveError(error, context: context)
        }
    }

    func accessToken(_ request: Request, connectorID: String, context: APIRequestContext) async throws -> Response {
        guard let object = try await Self.jsonObject(request),
            let userID = object["user_id"] as? String, UUIDSyntax.isValid(userID), UUIDSyntax.isValid(connectorID)
        else {
            return Self.error(.badRequest, "invalid_request", "user_id (uuid) and a connector id (uuid) are required", context: context)
        }
        let requestID = Self.newRequestID()
        (context.audit.userID, context.audit.connectorID, context.audit.requestID) = (userID.lowercased(), connectorID.lowercased(), requestID)
        do {
            let grant = try await client.exchange(userID: userID, connectorID: connectorID, requestID: requestID)
            return Self.json(.ok, [
                "access_token": grant.accessToken, "expires_in": grant.expiresIn ?? NSNull(), "scope": grant.scope ?? NSNull(),
            ] as [String: Any])
        } catch {
            return Self.enclaveError(error, context: context)
        }
    }

    func revoke(_ request: Request, connectorID: String, context: APIRequestContext) async throws -> Response {
        guard let userID = request.uri.queryParameters.get("user_id"), UUIDSyntax.isValid(userID), UUIDSyntax.isValid(connectorID) else {
            return Self.error(
                .badRequest, "invalid_request", "user_id (uuid) query parameter and a connector id (uuid) are required", context: context)
        }
        (context.audit.userID, context.audit.connectorID) = (userID.lowercased(), connectorID.lowercased())
        let job = try await jobs.enqueueRevoke(
            userID: userID.lowercased(), connectorID: connectorID.lowercased(), now: Int64(Date().timeIntervalSince1970))
        context.audit.requestID = job.id
        return Self.json(.accepted, ["job_id": job.id, "state": job.state.rawValue])
    }

    func job(_ id: String, context: APIRequestContext) async throws -> Response {
        guard let job = try await jobs.job(id: id.lowercased()) else {
            return Self.error(.notFound, "not_found", "no such job", context: context)
        }
        (context.audit.connectorID, context.audit.userID, context.audit.requestID) = (job.connectorID, job.userID, job.id)
        return Self.json(.ok, [
            "job_id": job.id, "kind": "revoke", "state": job.state.rawValue, "attempts": job.attempts,
            "connector_id": job.connectorID, "last_error": job.lastError ?? NSNull(), "updated_at": job.updatedAt,
        ] as [String: Any])
    }

    static let maxBodyBytes = 64 * 1024

    static func newRequestID() -> String { UUID().uuidString.lowercased() }

    /// The body as a JSON object, nil when it is not one; a body over the cap is answered 413
    /// `payload_too_large` (NIO's error, caught by `BodySizeMiddleware`), not as a malformed one.
    static func jsonObject(_ request: Request) async throws -> [String: Any]? {
        let body = try await request.body.collect(upTo: maxBodyBytes)
        return (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any]
    }

    /// An optional text field: absent or null is nil; anything else must be a non-empty string. A
    /// malformed value is refused here, not dropped (the grant would go out without it) nor passed
    /// on for the enclave to refuse (which the caller would see as a 502).
    enum OptionalText { case valid(String?), invalid }

    static func optionalText(_ value: Any?) -> OptionalText {
        switch value {
        case nil, is NSNull: .valid(nil)
        case let text as String where !text.isEmpty: .valid(text)
        default: .invalid
        }
    }

    /// Enclave errors as host statuses, by the contract's code. An enclave 401/403 means this host
    /// is misconfigured (wrong secret, clock, key policy): never passed on as if the caller were
    /// unauthorized. An answer that is not authenticated (docs/contract.md §2a) is not the enclave's
    /// word: 502, whatever it claimed.
    static func enclaveError(_ error: EnclaveRPCError, context: APIRequestContext) -> Response {
        context.audit.refusal = error.code
        switch error.contractCode {
        case .connectorTokenUnavailable?: return Self.error(.notFound, error.code, "no token is available for this connector")
        case .providerFailed? where error.providerStatus.map({ $0 < 500 }) == true:
            return Self.error(.badRequest, error.oauthError ?? error.code, "the provider refused the grant")
        case .replayCacheFull?, .providerNotConfigured?, .storeUnavailable?:
            return Self.error(.serviceUnavailable, error.code, "the enclave is unavailable; retry later")
        case nil where error.code == EnclaveRPCError.unreachableCode:
            return Self.error(.serviceUnavailable, error.code, "the enclave is unavailable; retry later")
        default:
            return Self.error(.badGateway, error.code, "the enclave could not complete the request")
        }
    }

    static func error(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
        json(status, ["error": ["code": code, "message": message]])
    }

    /// The error body, its code noted for the request's audit event.
    static func error(_ status: HTTPResponse.Status, _ code: String, _ message: String, context: APIRequestContext) -> Response {
        context.audit.refusal = code
        return error(status, code, message)
    }

    static func json(_ status: HTTPResponse.Status, _ object: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Failures thrown by a route as the api's own error body: a body over `APIRoutes.maxBodyBytes`
/// (413), the shared job store out of reach (503 `store_unavailable`, retryable).
struct HostErrorMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch is NIOTooManyBytesError {
            return APIRoutes.error(
                .contentTooLarge, "payload_too_large", "the request body exceeds \(APIRoutes.maxBodyBytes) bytes", context: context)
        } catch StoreError.unavailable {
            return APIRoutes.error(.serviceUnavailable, "store_unavailable", "the job store cannot be reached; retry later", context: context)
        }
    }
}

/// `Authorization: Bearer <API_INTERNAL_TOKEN>` (the scheme in any case, RFC 7235).
struct BearerTokenMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let token: BearerToken

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard token.accepts(authorization: request.headers[.authorization]) else {
            return APIRoutes.error(.unauthorized, "unauthorized", "a valid bearer token is required", context: context)
        }
        return try await next(request, context)
    }
}
