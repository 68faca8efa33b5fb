import EnclaveContract
import HTTPTypes
import Hummingbird

/// Exact-path routing of the contract: an unknown path is 404 and a known path with another
/// method is 405, before any authentication; under `/v1/rpc/` both carry the error envelope.
/// Hummingbird's trie router answers 404 for a wrong method, hence this table. The access log line
/// and the request counters are `AccessLog`'s, around it.
struct ContractRouter: Sendable {
    typealias Context = EnclaveRequestContext
    typealias Handler = @Sendable (Request, Context) async throws -> Response

    struct Route: Sendable {
        var method: HTTPRequest.Method
        var handler: Handler
    }

    let routes: [String: Route]

    /// `context.path` is the request's path without its query (set by `AccessLog`).
    func respond(to request: Request, context: Context) async throws -> Response {
        let path = context.path
        guard let route = routes[path] else {
            return path.hasPrefix(ContractRoute.rpcPrefix)
                ? JSONResponse.envelope(.init(.notFound, "no such endpoint"), requestID: nil, context: context)
                : JSONResponse.plainError(.notFound, message: "no such endpoint", context: context)
        }
        guard route.method == request.method else {
            let allow: HTTPFields = [.allow: route.method.rawValue]
            return path.hasPrefix(ContractRoute.rpcPrefix)
                ? JSONResponse.envelope(.init(.methodNotAllowed, "use \(route.method.rawValue)"), requestID: nil, context: context, headers: allow)
                : JSONResponse.plainError(.methodNotAllowed, message: "use \(route.method.rawValue)", context: context, headers: allow)
        }
        return try await route.handler(request, context)
    }
}
