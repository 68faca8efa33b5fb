import EnclaveConfiguration
import EnclaveMetrics
import EnclaveStorage
import Logging
import ServiceLifecycle

/// The job store the configuration asks for: SQLite in HOST_STATE_DIR (one machine), or
/// PostgreSQL (HOST_DATABASE_URL) shared by every api and worker, whose pool runs as a service
/// and whose schema is brought up to date before the process serves.
public struct HostJobStores: Sendable {
    public let jobs: any JobStore
    /// The database pool, first in the service group so that it stops last.
    public let services: [any Service]
    private let postgres: PostgresJobStore?

    public init(_ configuration: HostConfiguration, role: String, logger: Logger) throws {
        if let url = configuration.databaseURL {
            let database = try SharedDatabase(url: url, applicationName: role, maximumConnections: 8, logger: logger)
            let store = PostgresJobStore(database: database)
            jobs = store
            postgres = store
            services = [database]
        } else {
            jobs = try SQLiteJobStore(directory: configuration.stateDirectory)
            postgres = nil
            services = []
        }
    }

    public func prepare() async throws(StoreError) {
        try await postgres?.prepare()
    }

    /// The host process's services: the database pool first (so it stops last), the metrics
    /// listener when one is configured, then `main` (the api's server or the worker's loop),
    /// started once the store is ready; stopped by SIGTERM or SIGINT.
    public func serviceGroup(
        running main: any Service, metrics: HostMetrics?, metricsAddress: BindAddress?, logger: Logger
    ) -> ServiceGroup {
        var services = self.services
        if let metrics, let metricsAddress {
            services.append(MetricsListener(bindAddress: metricsAddress, metrics: metrics.registry, logger: logger))
        }
        services.append(StartWhenReady(stores: self, service: main))
        return ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    }
}

private struct StartWhenReady: Service {
    let stores: HostJobStores
    let service: any Service

    func run() async throws {
        try await stores.prepare()
        try await service.run()
    }
}
