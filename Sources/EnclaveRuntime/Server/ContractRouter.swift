import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Exact-path routing of the contract: an unknown path is 404 and a known path with another
/// method is 405, before any authentication; under `/v1/rpc/` both carry the error envelope.
/// Hummingbird's trie router answers 404 for a wrong method, hence this table. It also writes the
/// access log line of every request.
struct ContractRouter: HTTPResponder {
    typealias Context = EnclaveRequestContext
    typealias Handler = @Sendable (Request, Context) async throws -> Response

    struct Route: Sendable {
        var method: HTTPRequest.Method
        var handler: Handler
        /// This route's request counters, when metrics are on.
        var counters: RequestCounters? = nil
    }

    let routes: [String: Route]
    let logger: Logger
    /// Requests to paths that are no route, when metrics are on.
    let otherCounters: RequestCounters?

    /// With `metrics`, each route counts its requests by status (unknown paths as `other`).
    init(routes: [String: Route], logger: Logger, metrics: RuntimeMetrics?) {
        var routes = routes
        if let metrics {
            for path in routes.keys { routes[path]?.counters = metrics.requestCounters(route: path) }
        }
        self.routes = routes
        self.logger = logger
        otherCounters = metrics?.requestCounters(route: "other")
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        let start = ContinuousClock.now
        let path = pathWithoutQuery(request)
        var context = context
        context.path = path
        let route = routes[path]
        let response: Response
        do {
            response = try await self.route(route, request, path: path, context: context)
        } catch {
            // Handlers answer their own errors; anything left is an internal fault.
            logger.error("unhandled error", metadata: ["path": .string(path)])
            response = path.hasPrefix("/v1/rpc/")
                ? JSONResponse.envelope(.init(.rpcInternalError, "internal error"), requestID: nil, context: context)
                : JSONResponse.plainError(.internalServerError, code: "internal_error", message: "internal error", context: context)
        }
        let elapsed = ContinuousClock.now - start
        var metadata: Logger.Metadata = [
            "path": .string(path), "method": .string(request.method.rawValue), "status": .stringConvertible(response.status.code),
            "duration_ms": .stringConvertible((elapsed / .microseconds(1)).rounded() / 1000),
        ]
        if let id = context.log.requestID { metadata["request_id"] = .string(id) }
        if let code = context.log.errorCode { metadata["error_code"] = .string(code) }
        logger.info("request", metadata: metadata)
        (route?.counters ?? otherCounters)?.count(status: Int(response.status.code))
        return response
    }

    private func route(_ route: Route?, _ request: Request, path: String, context: Context) async throws -> Response {
        guard let route else {
            return path.hasPrefix("/v1/rpc/")
                ? JSONResponse.envelope(.init(.notFound, "no such endpoint"), requestID: nil, context: context)
                : JSONResponse.plainError(.notFound, code: "not_found", message: "no such endpoint", context: context)
        }
        guard route.method == request.method else {
            let allow: HTTPFields = [.allow: route.method.rawValue]
            return path.hasPrefix("/v1/rpc/")
                ? JSONResponse.envelope(.init(.methodNotAllowed, "use \(route.method.rawValue)"), requestID: nil, context: context, headers: allow)
                : JSONResponse.plainError(.methodNotAllowed, code: "method_not_allowed", message: "use \(route.method.rawValue)", context: context, headers: allow)
        }
        return try await route.handler(request, context)
    }
}
