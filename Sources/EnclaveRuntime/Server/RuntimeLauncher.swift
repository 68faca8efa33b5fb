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
    /// `success` after a graceful stop; `osError` when the process cannot be protected;
    /// `configuration` for a configuration (or local data key) that breaks a rule, with one line
    /// on stderr naming it; `unavailable` when the shared database (or KMS) cannot be reached (or
    /// migrated) at start; `refused` when KMS refuses a secret; `software` when the NSM gives no first document; `failure` on any other error.
    /// `composition` adds routes beside the contract's (`enclave-runtime-bench`'s floors, which
    /// are `localOnly`: refused unless ALFRED_ENV is local).
    public static func run(
        program: String, composition: @Sendable (RuntimeConfiguration) -> RuntimeComposition = { _ in .init() }, localOnly: Bool = false
    ) async -> ExitStatus {
        func fail(_ line: String) { FileHandle.standardError.write(Data("\(line)\n".utf8)) }
        // Before any secret is read: no core file, and no other process of this user reads this
        // one's memory or environment (EX_OSERR when that cannot be had).
        do { try ProcessProtection.apply() } catch {
            fail("\(program): \(error)")
            return .osError
        }
        let configuration: RuntimeConfiguration
        do {
            configuration = try RuntimeConfiguration.load(EnvironmentSource.process())
        } catch {
            fail("\(error)")
            return .configuration
        }
        if localOnly && !configuration.shared.isLocal {
            fail("configuration error: \(program) is only allowed when ALFRED_ENV is local")
            return .configuration
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
            let configuration = try await SecretRelease.open(configuration, logger: logger)
            let runtime = try EnclaveRuntimeApplication(
                configuration: configuration, logger: logger, composition: composition(configuration))
            var group = ServiceGroupConfiguration(
                services: runtime.services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            group.maximumGracefulShutdownDuration = .seconds(10)
            group.maximumCancellationDuration = .seconds(2)
            // The outbound client is shut down whatever ended the group: one left running crashes
            // the process in its deinit instead of letting the error below be reported.
            var ended: (any Error)?
            do { try await ServiceGroup(configuration: group).run() } catch { ended = error }
            try await runtime.shutdown()
            if let ended { throw ended }
            logger.info("stopped")
            return .success
        } catch let error as DataKeyError {
            // Names the file and the broken rule, never the key.
            fail("\(program): \(error)")
            return .configuration
        } catch let error as ConfigurationError {
            // Found while building the runtime (ENCLAVE_AUDIT_LOG that cannot be appended to).
            fail("\(error)")
            return .configuration
        } catch let error as StoreError {
            // The URL is a secret: the variable is named, never its value.
            fail("\(program): " + StoreError.startFailure(error, variable: "ENCLAVE_DATABASE_URL"))
            return .unavailable
        } catch let error as KMSStartError {
            fail("\(program): \(error)")
            if case .unreachable = error { return .unavailable }
            return .refused
        } catch let error as NSMStartError {
            // No first document: an NSM that does not answer (EX_SOFTWARE), or one it cannot use.
            fail("\(program): \(error)")
            if case .unavailable = error { return .software }
            return .configuration
        } catch {
            logger.critical("the enclave runtime stopped on an error", metadata: ["error": "\(type(of: error))"])
            return .failure
        }
    }
}
