import EnclaveConfiguration
import EnclaveCrypto
import EnclaveLogging
import EnclaveStorage
import Foundation
import Logging
import ServiceLifecycle

/// The enclave runtime as a process: protection first, then the configuration (read once), JSON
/// logging, and the service group until SIGTERM or SIGINT, in-flight requests finishing within
/// 10 s. It returns the exit status; the executables (`enclave-runtime`, and
/// `enclave-runtime-bench` with its floor routes) pass it to `exit`.
public enum RuntimeLauncher {
    /// 0 after a graceful stop; 71 when the process cannot be protected; 78 for a configuration
    /// (or local data key) that breaks a rule, with one line on stderr naming it; 69 when the
    /// shared database cannot be reached (or migrated) at start; 1 on any other error.
    @_spi(Benchmarks) public static func run(
        program: String, extraRoutes: @Sendable (RuntimeConfiguration) -> [ExtraRoute] = { _ in [] }, localOnly: Bool = false
    ) async -> Int32 {
        func fail(_ line: String) { FileHandle.standardError.write(Data("\(line)\n".utf8)) }
        // Before any secret is read: no core file, and no other process of this user reads this
        // one's memory or environment (EX_OSERR when that cannot be had).
        do { try ProcessProtection.apply() } catch {
            fail("\(program): \(error)")
            return 71
        }
        let configuration: RuntimeConfiguration
        do {
            configuration = try RuntimeConfiguration.load(EnvironmentSource.process())
        } catch {
            fail("\(error)")
            return ConfigurationError.exitStatus
        }
        if localOnly && !configuration.shared.isLocal {
            fail("configuration error: \(program) is only allowed when ALFRED_ENV is local")
            return ConfigurationError.exitStatus
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
            let runtime = try EnclaveRuntimeApplication(
                configuration: configuration, logger: logger, extraRoutes: extraRoutes(configuration))
            var group = ServiceGroupConfiguration(
                services: runtime.services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            group.maximumGracefulShutdownDuration = .seconds(10)
            group.maximumCancellationDuration = .seconds(2)
            try await ServiceGroup(configuration: group).run()
            try await runtime.shutdown()
            logger.info("stopped")
            return 0
        } catch let error as DataKeyError {
            // Names the file and the broken rule, never the key.
            fail("\(program): \(error)")
            return ConfigurationError.exitStatus
        } catch let error as ConfigurationError {
            // Found while building the runtime (ENCLAVE_AUDIT_LOG that cannot be appended to).
            fail("\(error)")
            return ConfigurationError.exitStatus
        } catch let error as StoreError {
            // The URL is a secret: the variable is named, never its value.
            fail("\(program): " + StoreError.startFailure(error, variable: "ENCLAVE_DATABASE_URL"))
            return StoreError.exitStatus
        } catch let error as NSMStartError {
            // No first document: an NSM that does not answer (EX_SOFTWARE), or one it cannot use.
            fail("\(program): \(error)")
            if case .unavailable = error { return 70 }
            return ConfigurationError.exitStatus
        } catch {
            logger.critical("the enclave runtime stopped on an error", metadata: ["error": "\(type(of: error))"])
            return 1
        }
    }
}
