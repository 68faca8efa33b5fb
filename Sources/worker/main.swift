// worker: proves the enclave (fail-closed), then every WORKER_TICK_SECONDS checks it again (fresh
// challenge, authenticated ping) and, only when that succeeded, runs due revoke jobs.
import HostServices

let launch = HostLaunch.begin("worker")
let configuration = launch.configuration, logger = launch.logger
do {
    let (metrics, connection, _) = try await launch.proveEnclave(metricsAddress: configuration.workerMetricsBindAddress)
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
} catch {
    launch.stop(after: error)
}
