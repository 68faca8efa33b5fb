// worker: proves the enclave (fail-closed), then every WORKER_TICK_SECONDS re-verifies its
// attestation with a fresh challenge and, only when that succeeded, runs due revoke jobs.
import EnclaveClient
import EnclaveCrypto
import EnclaveLogging
import Foundation
import HostServices
import Logging
import ServiceLifecycle

// First: the hosts hold the shared secret (see ProcessProtection).
ProcessProtection.applyOrExit(program: "worker")
let configuration = HostStartup.configuration(role: "worker")
LoggingSystem.bootstrap { JSONLogHandler(label: $0, level: .info) }
let logger = Logger(label: "worker")

_ = await HostStartup.probe(configuration, role: "worker", logger: logger)
do {
    let worker = RevokeWorker(
        client: try EnclaveRPCClient(baseURL: configuration.baseURL, secret: configuration.shared.sharedSecret, timeoutMilliseconds: 15000),
        verifier: AttestationVerifier(configuration: configuration), jobs: try JobStore(directory: configuration.stateDirectory),
        tick: .seconds(configuration.workerTickSeconds), logger: logger)
    let group = ServiceGroup(configuration: .init(services: [worker], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
    logger.info("stopped")
} catch {
    logger.critical("worker stopped on an error", metadata: ["error": "\(type(of: error))"])
    exit(1)
}
