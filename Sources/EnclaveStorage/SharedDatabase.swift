import EnclaveConfiguration
import Foundation
import Logging
import NIOSSL
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Why a store operation did not complete.
public enum StoreError: Error, Sendable, Equatable {
    /// The shared database cannot be reached (connection refused or lost, no answer before the
    /// deadline, the server shutting down or out of connections): retryable, `store_unavailable`.
    case unavailable
    /// The database answered with an error this code does not expect: a defect, `rpc_internal_error`.
    case failed
}

extension StoreError {
    /// The line a process prints when its database cannot be used at start.
    public static func startFailure(_ error: StoreError, variable: String) -> String {
        switch error {
        case .unavailable: "the database named by \(variable) could not be reached within 60 s"
        case .failed: "the database named by \(variable) refused the schema migration"
        }
    }
}

/// One PostgreSQL database shared by every replica: `PostgresNIO`'s connection pool, run as a
/// `Service` in the process's service group (its `run` keeps the pool alive), with every
/// operation bounded by a deadline and classified as unavailable or failed, a reachability flag
/// kept fresh in the background (for `healthz`), and versioned migrations that replicas starting
/// at once apply exactly once.
public final class SharedDatabase: Service, Sendable {
    public let client: PostgresClient
    let logger: Logger
    private let reachable = Atomic<Bool>(false)

    /// The bound on one operation, waiting for a connection included. The server enforces the same
    /// bound on each statement (statement_timeout), so a query this side stopped waiting for does
    /// not run on there.
    public static let operationDeadline: Duration = .seconds(2)
    static let healthInterval: Duration = .seconds(1)

    public init(url: DatabaseURL, applicationName: String, maximumConnections: Int = 20, logger: Logger) throws {
        var configuration: PostgresClient.Configuration
        switch url.endpoint {
        case .tcp(let host, let port):
            configuration = .init(
                host: host, port: port, username: url.user, password: url.password, database: url.database,
                tls: try Self.tls(url))
        case .unixSocket(let path):
            configuration = .init(unixSocketPath: path, username: url.user, password: url.password, database: url.database)
        }
        configuration.options.connectTimeout = .seconds(2)
        configuration.options.minimumConnections = 1
        configuration.options.maximumConnections = maximumConnections
        configuration.options.keepAliveBehavior = .init(frequency: .seconds(10))
        let deadlineMilliseconds = Self.operationDeadline.components.seconds * 1000
        configuration.options.additionalStartupParameters = [
            ("application_name", url.applicationName ?? applicationName),
            ("statement_timeout", "\(deadlineMilliseconds)"),
            ("lock_timeout", "\(deadlineMilliseconds)"),
        ]
        // The pool's own messages carry no query parameters; at warning and above only.
        var background = logger
        background.logLevel = max(logger.logLevel, .warning)
        client = PostgresClient(configuration: configuration, backgroundLogger: background)
        self.logger = logger
    }

    /// libpq's meaning of each sslmode (there is no fallback to plain text once TLS is required).
    static func tls(_ url: DatabaseURL) throws -> PostgresClient.Configuration.TLS {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let roots = url.rootCertificatePath { tls.trustRoots = .file(roots) }
        switch url.tlsMode {
        case .disable: return .disable
        case .allow, .prefer:
            tls.certificateVerification = .none
            return .prefer(tls)
        case .require:
            tls.certificateVerification = .none
            return .require(tls)
        case .verifyCA:
            tls.certificateVerification = .noHostnameVerification
            return .require(tls)
        case .verifyFull:
            tls.certificateVerification = .fullVerification
            return .require(tls)
        }
    }

    /// Whether the latest check (or operation) reached the server: what `healthz` reports.
    public var isReachable: Bool { reachable.load(ordering: .relaxed) }

    /// Keeps the pool, and a check of the server every second, until graceful shutdown.
    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.client.run() }
            group.addTask {
                await cancelWhenGracefulShutdown {
                    while !Task.isCancelled {
                        _ = try? await self.perform { client in try await client.query("SELECT 1") }
                        try? await Task.sleep(for: Self.healthInterval)
                    }
                }
            }
        }
    }

    /// Runs `operation` on the pool within `deadline`; on failure throws `StoreError` only (no
    /// driver error leaves this type: its text may hold a query's parameters).
    @discardableResult
    public func perform<Result: Sendable>(
        deadline: Duration = operationDeadline, _ operation: @escaping @Sendable (PostgresClient) async throws -> Result
    ) async throws(StoreError) -> Result {
        let client = client
        do {
            let result = try await Deadline.run(deadline) { try await operation(client) }
            reachable.store(true, ordering: .relaxed)
            return result
        } catch {
            let classified = Self.classify(error)
            if classified == .unavailable { reachable.store(false, ordering: .relaxed) }
            throw classified
        }
    }

    /// Connection-level failures and the server's "not now" answers are `unavailable`; any other
    /// answer from the server is `failed`.
    static func classify(_ error: any Error) -> StoreError {
        if let error = error as? StoreError { return error }
        guard let error = error as? PSQLError else {
            // The pool's errors (shut down, request cancelled) and the deadline.
            return error is PostgresDecodingError ? .failed : .unavailable
        }
        guard error.code == .server else { return .unavailable }
        let state = error.serverInfo?[.sqlState] ?? ""
        // 08 connection exception, 53 insufficient resources, 57 operator intervention (shutdown,
        // statement_timeout's 57014), 58 system error, 40001/40P01 serialization failure/deadlock.
        let transientClasses = ["08", "53", "57", "58"]
        // 55P03: lock_timeout, another replica migrating.
        let transientStates: Set<String> = ["40001", "40P01", "55P03"]
        if transientClasses.contains(String(state.prefix(2))) || transientStates.contains(state) { return .unavailable }
        return .failed
    }

    // MARK: Migrations

    /// A numbered schema change: statements applied in one transaction.
    public struct Migration: Sendable {
        public var version: Int
        public var name: String
        public var statements: [String]

        public init(_ version: Int, _ name: String, _ statements: [String]) {
            self.version = version
            self.name = name
            self.statements = statements
        }
    }

    /// Applies what is missing of `migrations` to `component`'s schema, in one transaction under a
    /// transaction-level advisory lock: replicas starting together wait for the first and then find
    /// nothing to do. Retries while the server cannot be reached, until `within`.
    public func migrate(component: String, _ migrations: [Migration], within: Duration = .seconds(60)) async throws(StoreError) {
        let started = ContinuousClock.now
        var attempt = 0
        while true {
            do {
                try await perform(deadline: .seconds(30)) { client in
                    try await client.withConnection { connection in
                        try await Self.apply(component: component, migrations, on: connection, logger: self.logger)
                    }
                }
                return
            } catch .failed {
                throw .failed
            } catch {
                attempt += 1
                guard ContinuousClock.now - started < within else { throw .unavailable }
                if attempt == 1 || attempt % 10 == 0 {
                    logger.warning("the database cannot be reached; retrying", metadata: ["component": "\(component)"])
                }
                try? await Task.sleep(for: .milliseconds(min(200 * attempt, 2000)))
            }
        }
    }

    private static func apply(component: String, _ migrations: [Migration], on connection: PostgresConnection, logger: Logger) async throws {
        // One lock for every component's migrations, the same key in every replica.
        let table = "schema_migrations"
        try await connection.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext('enclave-migrations'))", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS \(unescaped: table) (
                    component text NOT NULL, version integer NOT NULL, name text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (component, version))
                """, logger: logger)
            var applied = Set<Int>()
            for try await version in try await connection.query(
                "SELECT version FROM \(unescaped: table) WHERE component = \(component)", logger: logger
            ).decode(Int.self) {
                applied.insert(version)
            }
            for migration in migrations.sorted(by: { $0.version < $1.version }) where !applied.contains(migration.version) {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO \(unescaped: table) (component, version, name) VALUES (\(component), \(migration.version), \(migration.name))",
                    logger: logger)
                logger.info("database migration applied", metadata: ["component": "\(component)", "version": "\(migration.version)"])
            }
        }
    }
}

/// Whichever of the work and the timer ends first resumes the caller; the other finds the slot empty.
private final class Race<Result: Sendable>: Sendable {
    let slot = Mutex<CheckedContinuation<Result, any Error>?>(nil)
    let timer = Mutex<Task<Void, Never>?>(nil)
}

/// Bounds an operation that may not answer cancellation (a query already sent waits for its
/// answer): the caller is resumed at the deadline, and the operation, cancelled, finishes alone.
enum Deadline {
    struct Expired: Error {}

    static func run<Result: Sendable>(
        _ deadline: Duration, _ operation: @escaping @Sendable () async throws -> Result
    ) async throws -> Result {
        let race = Race<Result>()
        return try await withCheckedThrowingContinuation { continuation in
            race.slot.withLock { $0 = continuation }
            let work = Task {
                let result: Swift.Result<Result, any Error>
                do { result = .success(try await operation()) } catch { result = .failure(error) }
                race.slot.withLock { $0.take() }?.resume(with: result)
                race.timer.withLock { $0 }?.cancel()
            }
            let sleeper = Task {
                guard (try? await Task.sleep(for: deadline)) != nil else { return }
                if let continuation = race.slot.withLock({ $0.take() }) {
                    continuation.resume(throwing: Expired())
                    work.cancel()
                }
            }
            race.timer.withLock { $0 = sleeper }
            // The work may have finished before the timer was stored.
            if race.slot.withLock({ $0 == nil }) { sleeper.cancel() }
        }
    }
}
