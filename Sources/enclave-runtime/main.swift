// enclave-runtime: validates its configuration (exit 78 on any broken rule), then serves the
// contract until SIGTERM or SIGINT, finishing in-flight requests within 10 seconds.
import EnclaveConfiguration
import EnclaveLogging
import EnclaveRuntime
import Foundation
import Logging
import ServiceLifecycle

let configuration: RuntimeConfiguration
do {
    configuration = try RuntimeConfiguration.load(EnvironmentSource.process())
} catch {
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    exit(ConfigurationError.exitStatus)
}

let level = configuration.logLevel
LoggingSystem.bootstrap { JSONLogHandler(label: $0, level: level) }
let logger = Logger(label: "enclave-runtime")

if configuration.shared.mode == .devShim {
    logger.warning(
        "DEV-SHIM MODE: this is not a real enclave; attestation is a local stand-in. Never use it outside local development.",
        metadata: ["environment": "\(configuration.shared.environment.rawValue)"])
}

do {
    let runtime = try EnclaveRuntimeApplication(configuration: configuration, logger: logger)
    var groupConfiguration = ServiceGroupConfiguration(
        services: [runtime.application], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    groupConfiguration.maximumGracefulShutdownDuration = .seconds(10)
    groupConfiguration.maximumCancellationDuration = .seconds(2)
    try await ServiceGroup(configuration: groupConfiguration).run()
    try await runtime.shutdown()
    logger.info("stopped")
} catch {
    logger.critical("the enclave runtime stopped on an error", metadata: ["error": "\(type(of: error))"])
    exit(1)
}
