import EnclaveConfiguration
import EnclaveHTTP
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// The separate listener that serves `GET /metrics` (Prometheus text) and nothing else; never
/// on the RPC or API listener. Runs as a service in the process's group.
public struct MetricsListener: Service {
    let application: Application<RouterResponder<BasicRequestContext>>

    /// `limits`: a small cap, so that scrapers (or anyone who can reach the port) can never take
    /// the descriptors a serving listener needs (issue 31).
    public init(
        bindAddress: EnclaveConfiguration.BindAddress, metrics: MetricsRegistry, logger: Logger, limits: ListenerLimits = .metrics
    ) {
        let router = Router()
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: await metrics.exposition())))
        }
        application = Application(
            router: router, server: .guarded(limits),
            configuration: .init(address: .hostname(bindAddress.host, port: bindAddress.port), serverName: nil), logger: logger)
    }

    /// `run()`, not `runService()`: that one starts a service group of its own that ends on
    /// SIGTERM by itself, so the process's group saw its metrics listener finish unexpectedly and
    /// the runtime exited 1 (and crashed on its unclosed HTTP client) instead of stopping cleanly.
    public func run() async throws {
        try await application.run()
    }
}
