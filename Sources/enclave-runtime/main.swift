// enclave-runtime: validates its configuration (exit 78 on any broken rule), then serves the
// contract until SIGTERM or SIGINT, finishing in-flight requests within 10 seconds.
// The only argument, `--bench-floor-route`, adds the benchmarks' hello-world route (local only).
import EnclaveConfiguration
import EnclaveCrypto
import EnclaveLogging
import EnclaveRuntime
import Foundation
import Logging
import ServiceLifecycle

/// One line on stderr, then the exit status.
func fail(_ line: String, status: Int32) -> Never {
    FileHandle.standardError.write(Data("enclave-runtime: \(line)\n".utf8))
    exit(status)
}

// Before any secret is read: no core file, and no other process of this user reads this one's
// memory or environment (EX_OSERR when that cannot be had).
do { try ProcessProtection.apply() } catch { fail("\(error)", status: 71) }

let configuration: RuntimeConfiguration
do {
    configuration = try RuntimeConfiguration.load(EnvironmentSource.process())
} catch {
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    exit(ConfigurationError.exitStatus)
}

let arguments = CommandLine.arguments.dropFirst()
let benchmarkFloorRoute = arguments.contains("--bench-floor-route")
if let unknown = arguments.first(where: { $0 != "--bench-floor-route" }) {
    FileHandle.standardError.write(Data("enclave-runtime: unknown argument \(unknown); configuration comes from the environment\n".utf8))
    exit(64)
}
if benchmarkFloorRoute && !configuration.shared.isLocal {
    FileHandle.standardError.write(Data("configuration error: --bench-floor-route is only allowed when ALFRED_ENV is local\n".utf8))
    exit(ConfigurationError.exitStatus)
}

let level = configuration.logLevel
LoggingSystem.bootstrap { JSONLogHandler(label: $0, level: level) }
let logger = Logger(label: "enclave-runtime")

// Read back from the kernel: no core file and not dumpable.
logger.info("process protection", metadata: ["in_place": "\(ProcessProtection.isApplied)"])
if configuration.shared.mode == .devShim {
    logger.warning(
        "DEV-SHIM MODE: this is not a real enclave; attestation is a local stand-in. Never use it outside local development.",
        metadata: ["environment": "\(configuration.shared.environment.rawValue)"])
}

do {
    let runtime = try EnclaveRuntimeApplication(configuration: configuration, logger: logger, benchmarkFloorRoute: benchmarkFloorRoute)
    var groupConfiguration = ServiceGroupConfiguration(
        services: [runtime.application], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    groupConfiguration.maximumGracefulShutdownDuration = .seconds(10)
    groupConfiguration.maximumCancellationDuration = .seconds(2)
    try await ServiceGroup(configuration: groupConfiguration).run()
    try await runtime.shutdown()
    logger.info("stopped")
} catch let error as DataKeyError {
    // Names the file and the broken rule, never the key.
    FileHandle.standardError.write(Data("enclave-runtime: \(error)\n".utf8))
    exit(ConfigurationError.exitStatus)
} catch {
    logger.critical("the enclave runtime stopped on an error", metadata: ["error": "\(type(of: error))"])
    exit(1)
}
