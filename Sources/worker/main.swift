// worker: proves the enclave (fail-closed), then every WORKER_TICK_SECONDS checks it again (fresh
// challenge, authenticated ping) and, only when that succeeded, runs due revoke jobs.
import EnclaveClient
import EnclaveConfiguration
import EnclaveCrypto
import EnclaveLogging
import EnclaveMetrics
import Foundation
import EnclaveStorage
import HostServices
import Logging
import ServiceLifecycle

/// One line on stderr, then the exit status.
func fail(_ line: String, status: ExitStatus) -> Never {
    FileHandle.standardError.write(Data("worker: \(line)\n".utf8))
    exit(status.rawValue)
}

// First: the hosts hold the shared secret (see ProcessProtection); EX_OSERR when that fails.
do { try ProcessProtection.apply() } catch { fail("\(error)", status: .osError) }
let configuration: HostConfiguration
do { configuration = try HostConfiguration.load(EnvironmentSource.process()) } catch {
    fail("\(error)", status: .configuration)
}
LoggingSystem.bootstrap { JSONLogHandler(label: $0, level: .info) }
let logger = Logger(label: "worker")

do {
    let metrics = configuration.workerMetricsBindAddress.map { _ in
        HostMetrics(
            registry: MetricsRegistry(), store: configuration.databaseURL == nil ? "sqlite" : "postgresql",
            acceptsStaticAttestation: configuration.client.acceptsStaticAttestation)
    }
    let connection = try EnclaveConnection(configuration: configuration.client, observer: metrics)
    do { _ = try await HostStartup.probe(configuration, connection: connection, logger: logger, metrics: metrics) } catch {
        fail("\(error)", status: .failure)
    }
    let stores = try HostJobStores(configuration, role: "worker", logger: logger)
    metrics?.watchJobs(stores.jobs)
    let worker = RevokeWorker(
        client: connection.client, check: connection.check, jobs: stores.jobs, tick: .seconds(configuration.workerTickSeconds),
        logger: logger, metrics: metrics)
    let group = stores.serviceGroup(
        running: worker, metrics: metrics, metricsAddress: configuration.workerMetricsBindAddress, logger: logger)
    try await group.run()
    try await connection.shutdown()
    logger.info("stopped")
} catch let error as StoreError {
    fail(StoreError.startFailure(error, variable: "HOST_DATABASE_URL"), status: .unavailable)
} catch {
    logger.critical("worker stopped on an error", metadata: ["error": "\(type(of: error))"])
    exit(ExitStatus.failure.rawValue)
}
