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

let launch = HostLaunch.begin("api")
let configuration = launch.configuration, logger = launch.logger
do {
    let (metrics, connection, verified) = try await launch.proveEnclave(metricsAddress: configuration.apiMetricsBindAddress)
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
} catch {
    launch.stop(after: error)
}
