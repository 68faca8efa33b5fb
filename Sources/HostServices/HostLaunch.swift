import EnclaveClient
import EnclaveConfiguration
import EnclaveCrypto
import EnclaveLogging
import EnclaveMetrics
import EnclaveStorage
import Foundation
import Logging

/// How the api and the worker start and end, the same for both: the process protected first (it
/// holds the shared secret: exit 71 when that fails), the configuration read (exit 78), the JSON
/// log, then the enclave proved by the startup probe (exit 1, one line naming the step). A failure
/// after that is exit 69 for a job store out of reach, else exit 1.
public struct HostLaunch: Sendable {
    public let role: String
    public let configuration: HostConfiguration
    public let logger: Logger

    public static func begin(_ role: String) -> HostLaunch {
        do { try ProcessProtection.apply() } catch { fail(role, "\(error)", status: .osError) }
        let configuration: HostConfiguration
        do { configuration = try HostConfiguration.load(EnvironmentSource.process()) } catch {
            fail(role, "\(error)", status: .configuration)
        }
        LoggingSystem.bootstrap { JSONLogHandler(label: $0, level: .info) }
        return HostLaunch(role: role, configuration: configuration, logger: Logger(label: role))
    }

    /// The host's metrics (when `metricsAddress` is set), its connection to the enclave, and the
    /// attestation the startup probe verified (nil when the mode is disabled, local only).
    public func proveEnclave(metricsAddress: BindAddress?) async throws -> (HostMetrics?, EnclaveConnection, VerifiedAttestation?) {
        let metrics = metricsAddress.map { _ in
            HostMetrics(
                registry: MetricsRegistry(), store: configuration.databaseURL == nil ? "sqlite" : "postgresql",
                acceptsStaticAttestation: configuration.client.acceptsStaticAttestation)
        }
        let connection = try EnclaveConnection(configuration: configuration.client, observer: metrics)
        do {
            return (metrics, connection, try await HostStartup.probe(configuration, connection: connection, logger: logger, metrics: metrics))
        } catch {
            Self.fail(role, "\(error)", status: .failure)
        }
    }

    /// Ends the process after an error that stopped the host.
    public func stop(after error: any Error) -> Never {
        if let error = error as? StoreError {
            Self.fail(role, StoreError.startFailure(error, variable: "HOST_DATABASE_URL"), status: .unavailable)
        }
        logger.critical("\(role) stopped on an error", metadata: ["error": "\(type(of: error))"])
        exit(ExitStatus.failure.rawValue)
    }

    /// One line on stderr, then the exit status.
    static func fail(_ role: String, _ line: String, status: ExitStatus) -> Never {
        FileHandle.standardError.write(Data("\(role): \(line)\n".utf8))
        exit(status.rawValue)
    }
}
