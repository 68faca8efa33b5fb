import EnclaveMetrics
import HTTPTypes
import Hummingbird

/// What a caller adds to the runtime beside the contract's routes. `enclave-runtime` adds nothing;
/// the benchmarks compose their floors and variants from it (`Sources/EnclaveBenchmarkRoutes`).
public struct RuntimeComposition: Sendable {
    public var routes: [ExtraRoute]
    /// Metrics recorded into this registry (with no listener), whatever the configuration says.
    public var metrics: MetricsRegistry?

    public init(routes: [ExtraRoute] = [], metrics: MetricsRegistry? = nil) {
        self.routes = routes
        self.metrics = metrics
    }
}

/// A route beside the contract's; it may not replace one of them.
public struct ExtraRoute: Sendable {
    public typealias Handler = @Sendable (Request, EnclaveRequestContext) async throws -> Response

    public enum Serves: Sendable {
        /// Any handler, through the same router and access log as the contract's routes.
        case handler(Handler)
        /// The contract's signed ping, its answers signed by `signing` instead of the contract's way.
        case ping(signing: any AnswerSigning)
    }

    public var method: HTTPRequest.Method
    public var path: String
    public var serves: Serves

    public init(method: HTTPRequest.Method, path: String, serves: Serves) {
        self.method = method
        self.path = path
        self.serves = serves
    }
}
