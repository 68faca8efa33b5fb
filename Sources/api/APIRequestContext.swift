import EnclaveLogging
import Foundation
import HostServices
import Hummingbird
import Logging

/// The api's request context: what the audit event of the request names, filled in by the route.
struct APIRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let audit = APIAuditFields()

    init(source: Source) {
        coreContext = .init(source: source)
    }
}

/// One instance per request, written and read by that request's task only.
final class APIAuditFields: @unchecked Sendable {
    /// The refusal's error code; nil while the request is allowed.
    var refusal: String?
    var userID: String?
    var connectorID: String?
    /// The id this request goes by: the enclave RPC's request_id, or the revoke job's id.
    var requestID: String?
}

/// Audits every request to the api's /v1 routes (one JSON event, before the answer leaves) and
/// counts it by route and status. Outermost on the group, so a refused bearer token is audited too.
struct AuditMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let audit: AuditRecorder
    let metrics: HostMetrics?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            context.audit.refusal = context.audit.refusal ?? "internal_error"
            record(context, status: 500, since: started)
            throw error
        }
        record(context, status: Int(response.status.code), since: started)
        return response
    }

    private func record(_ context: Context, status: Int, since started: ContinuousClock.Instant) {
        let fields = context.audit
        // The route's pattern, never the path (which holds the connector id).
        let route = context.endpointPath ?? "unmatched"
        audit.record(
            route: route, status: status, refusal: fields.refusal, userID: fields.userID, connectorID: fields.connectorID,
            requestID: fields.requestID, since: started)
        metrics?.request(route: route, status: status)
    }
}
