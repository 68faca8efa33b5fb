import EnclaveContract
import Hummingbird
import Logging

/// Around the router: the access log line of every request (path, method, status, duration, and
/// the request id and error code the endpoint noted), the request counters by route (paths that
/// are no route count as `other`), and the last answer to an error no handler answered.
public struct AccessLog: HTTPResponder {
    public typealias Context = EnclaveRequestContext

    let router: ContractRouter
    let logger: Logger
    /// Each route's counters and those of `other`, when metrics are on.
    let counters: [String: RequestCounters]?
    let otherCounters: RequestCounters?

    init(router: ContractRouter, logger: Logger, metrics: RuntimeMetrics?) {
        self.router = router
        self.logger = logger
        counters = metrics.map { metrics in
            Dictionary(uniqueKeysWithValues: router.routes.keys.map { ($0, metrics.requestCounters(route: $0)) })
        }
        otherCounters = metrics?.requestCounters(route: "other")
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        let start = ContinuousClock.now
        let path = pathWithoutQuery(request)
        var context = context
        context.path = path
        let response: Response
        do {
            response = try await router.respond(to: request, context: context)
        } catch {
            // Handlers answer their own errors; anything left is an internal fault.
            logger.error("unhandled error", metadata: ["path": .string(path)])
            response = path.hasPrefix(ContractRoute.rpcPrefix)
                ? JSONResponse.envelope(.init(.rpcInternalError, "internal error"), requestID: nil, context: context)
                : JSONResponse.plainError(.internalError, message: "internal error", context: context)
        }
        let elapsed = ContinuousClock.now - start
        var metadata: Logger.Metadata = [
            "path": .string(path), "method": .string(request.method.rawValue), "status": .stringConvertible(response.status.code),
            "duration_ms": .stringConvertible((elapsed / .microseconds(1)).rounded() / 1000),
        ]
        if let id = context.log.requestID { metadata["request_id"] = .string(id) }
        if let code = context.log.errorCode { metadata["error_code"] = .string(code) }
        logger.info("request", metadata: metadata)
        if let counters { (counters[path] ?? otherCounters)?.count(status: Int(response.status.code)) }
        return response
    }
}
