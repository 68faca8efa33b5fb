import EnclaveConfiguration
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// The separate listener that serves `GET /metrics` (Prometheus text) and nothing else; never
/// on the RPC or API listener. Runs as a service in the process's group.
public struct MetricsListener: Service {
    let application: Application<RouterResponder<BasicRequestContext>>

    public init(bindAddress: EnclaveConfiguration.BindAddress, metrics: MetricsRegistry, logger: Logger) {
        let router = Router()
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: await metrics.exposition())))
        }
        application = Application(
            router: router, configuration: .init(address: .hostname(bindAddress.host, port: bindAddress.port), serverName: nil),
            logger: logger)
    }

    public func run() async throws {
        try await application.runService()
    }
}
