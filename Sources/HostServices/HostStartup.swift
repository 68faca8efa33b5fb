import EnclaveClient
import EnclaveConfiguration
import Foundation
import Logging

/// What both hosts do before they serve: prove the enclave with the startup probe. The
/// executables decide what a failure means for the process (exit status 1, one line naming the
/// step).
public enum HostStartup {
    /// The verified attestation, or nil when ENCLAVE_RUNTIME_MODE=disabled (local only).
    public static func probe(
        _ configuration: HostConfiguration, connection: EnclaveConnection, logger: Logger, metrics: HostMetrics? = nil
    ) async throws(EnclaveCheckFailure) -> VerifiedAttestation? {
        if configuration.shared.mode == .disabled {
            // Only reachable in local: SharedSettings refuses disabled elsewhere.
            logger.warning("ENCLAVE_RUNTIME_MODE=disabled: the enclave probe is SKIPPED; token operations will fail. Local only.")
            return nil
        }
        if configuration.client.acceptsStaticAttestation && !configuration.shared.isLocal {
            logger.warning(
                "STATIC ATTESTATION ACCEPTED: TEE_ALLOWED_PCRS is unset, so an enclave runtime serving a configured document and key (which whoever configured it holds) is trusted; pin the enclave's PCRs to require AWS Nitro documents",
                metadata: ["environment": "\(configuration.shared.environment.rawValue)"])
        }
        let started = ContinuousClock.now
        let verified: VerifiedAttestation
        do {
            verified = try await StartupProbe(configuration: configuration.client, check: connection.check, transport: connection.transport)
                .run(logger: logger)
            metrics?.probe(failedStep: nil)
        } catch {
            metrics?.probe(failedStep: error.step.rawValue)
            throw error
        }
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
    }
}
