import AsyncHTTPClient
import EnclaveClient
import EnclaveConfiguration
import Foundation
import Logging

/// What both hosts do before anything else: load the configuration (exit 78 when broken), set
/// up JSON logging, and prove the enclave (exit 1 naming the failed step when it is refused).
public enum HostStartup {
    public static func configuration(role: String) -> HostConfiguration {
        do {
            return try HostConfiguration.load(EnvironmentSource.process())
        } catch {
            FileHandle.standardError.write(Data("\(role): \(error)\n".utf8))
            exit(ConfigurationError.exitStatus)
        }
    }

    /// Runs the startup probe; on failure prints one line naming the step and exits 1.
    public static func probe(_ configuration: HostConfiguration, role: String, logger: Logger) async -> VerifiedAttestation? {
        if configuration.shared.mode == .disabled {
            // Only reachable in local: SharedSettings refuses disabled elsewhere.
            logger.warning("ENCLAVE_RUNTIME_MODE=disabled: the enclave probe is SKIPPED; token operations will fail. Local only.")
            return nil
        }
        do {
            let client = try EnclaveRPCClient(
                baseURL: configuration.baseURL, secret: configuration.shared.sharedSecret,
                timeoutMilliseconds: configuration.probeTimeoutMilliseconds)
            let verifier = AttestationVerifier(configuration: configuration)
            let started = ContinuousClock.now
            let verified = try await StartupProbe(configuration: configuration, verifier: verifier, client: client).run(logger: logger)
            for skipped in verified.skipped {
                logger.warning("INSECURE DEV ATTESTATION: \(skipped)")
            }
            logger.info(
                "enclave verified",
                metadata: [
                    "runtime": "\(verified.runtime)", "measurement": "\(verified.measurement)",
                    "probe_ms": "\(Int((ContinuousClock.now - started) / .milliseconds(1)))",
                ])
            return verified
        } catch let failure as ProbeFailure {
            FileHandle.standardError.write(Data("\(role): \(failure)\n".utf8))
            exit(1)
        } catch {
            FileHandle.standardError.write(Data("\(role): enclave probe failed: \(error)\n".utf8))
            exit(1)
        }
    }
}
