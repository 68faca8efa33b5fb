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

    /// `service` as a service that starts once the store is ready.
    public func startingWhenReady(_ service: any Service) -> any Service {
        StartWhenReady(stores: self, service: service)
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
