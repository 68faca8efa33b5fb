import EnclaveStorage
import Logging
import ServiceLifecycle

/// Where the runtime keeps its state, as the configuration asks: SQLite in ENCLAVE_STATE_DIR and
/// the replay cache in memory (one runtime, nothing to install), or PostgreSQL shared by a fleet
/// (ENCLAVE_DATABASE_URL): connectors and the replay guard, migrated before the runtime listens.
struct RuntimeStores: Sendable {
    enum Kind: String, Sendable {
        case sqlite, postgresql
    }

    let kind: Kind
    let connectors: any ConnectorStore
    let replayGuard: any ReplayGuard
    /// PostgreSQL only: the pool (and its reachability) and the replay guard's purge.
    let database: SharedDatabase?
    let services: [any Service]

    static let component = "enclave-runtime"

    init(_ configuration: RuntimeConfiguration, logger: Logger) throws {
        if let url = configuration.databaseURL {
            let database = try SharedDatabase(url: url, applicationName: Self.component, logger: logger)
            let replay = PostgresReplayGuard(database: database, windowSeconds: configuration.shared.maxSkewSeconds)
            kind = .postgresql
            connectors = PostgresConnectorStore(database: database)
            replayGuard = replay
            self.database = database
            services = [database, replay]
        } else {
            kind = .sqlite
            connectors = try SQLiteConnectorStore(directory: configuration.stateDirectory)
            replayGuard = ReplayCache(capacity: configuration.replayCapacity, windowSeconds: configuration.shared.maxSkewSeconds)
            database = nil
            services = []
        }
    }

    /// Whether the store answered its latest check: SQLite is a file of this process.
    var isReachable: Bool { database?.isReachable ?? true }

    /// Brings the schema up to date (PostgreSQL; SQLite migrates when it opens).
    func prepare() async throws(StoreError) {
        try await database?.migrate(component: Self.component, PostgresConnectorStore.migrations + PostgresReplayGuard.migrations)
    }
}

/// Runs `services` side by side once `prepare` succeeded: the HTTP server listens, and the
/// re-seal walk starts, only on a migrated database. One that returns leaves the others running;
/// one that throws ends them all.
struct StartAfterPreparation: Service {
    let prepare: @Sendable () async throws -> Void
    let services: [any Service]

    func run() async throws {
        try await prepare()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for service in services { group.addTask { try await service.run() } }
            for try await _ in group {}
        }
    }
}
