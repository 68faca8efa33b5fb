// api: proves the enclave (fail-closed) before it listens, then serves the host API.
import EnclaveClient
import EnclaveConfiguration
import EnclaveCrypto
import EnclaveHTTP
import EnclaveLogging
import EnclaveMetrics
import Foundation
import EnclaveStorage
import HostServices
import Hummingbird
import Logging
import ServiceLifecycle

/// One line on stderr, then the exit status.
func fail(_ line: String, status: ExitStatus) -> Never {
    FileHandle.standardError.write(Data("api: \(line)\n".utf8))
    exit(status.rawValue)
}

// First: the hosts hold the shared secret (see ProcessProtection); EX_OSERR when that fails.
do { try ProcessProtection.apply() } catch { fail("\(error)", status: .osError) }
let configuration: HostConfiguration
do { configuration = try HostConfiguration.load(EnvironmentSource.process()) } catch {
    fail("\(error)", status: .configuration)
}
LoggingSystem.bootstrap { JSONLogHandler(label: $0, level: .info) }
let logger = Logger(label: "api")

do {
    let metrics = configuration.apiMetricsBindAddress.map { _ in
        HostMetrics(
            registry: MetricsRegistry(), store: configuration.databaseURL == nil ? "sqlite" : "postgresql",
            acceptsStaticAttestation: configuration.client.acceptsStaticAttestation)
    }
    let connection = try EnclaveConnection(configuration: configuration.client, observer: metrics)
    let verified: VerifiedAttestation?
    do { verified = try await HostStartup.probe(configuration, connection: connection, logger: logger, metrics: metrics) } catch {
        fail("\(error)", status: .failure)
    }
    let stores = try HostJobStores(configuration, role: "api", logger: logger)
    metrics?.watchJobs(stores.jobs)
    let routes = APIRoutes(
        client: connection.client, jobs: stores.jobs, token: try BearerToken(configuration.apiInternalToken), identity: verified,
        audit: try AuditTrail(path: nil, process: "api"), metrics: metrics)
    let bind = configuration.apiBindAddress
    let app = Application(
        router: routes.build(), server: .guarded(.serving()), configuration: .init(address: .hostname(bind.host, port: bind.port)),
        logger: logger)
    let group = stores.serviceGroup(
        running: app, metrics: metrics, metricsAddress: configuration.apiMetricsBindAddress, logger: logger)
    try await group.run()
    try await connection.shutdown()
} catch let error as StoreError {
    fail(StoreError.startFailure(error, variable: "HOST_DATABASE_URL"), status: .unavailable)
} catch {
    logger.critical("api stopped on an error", metadata: ["error": "\(type(of: error))"])
    exit(ExitStatus.failure.rawValue)
}
