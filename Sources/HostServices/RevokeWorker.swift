import EnclaveClient
import Foundation
import Logging
import ServiceLifecycle

/// The worker's loop as a Service: on each tick, a fresh attestation check; no job is dispatched
/// while the latest one failed. Retryable failures back off exponentially with jitter;
/// non-retryable ones end the job as failed with the error code.
public struct RevokeWorker: Service {
    let client: EnclaveRPCClient
    let verifier: AttestationVerifier
    let jobs: JobStore
    let tick: Duration
    let logger: Logger

    public init(client: EnclaveRPCClient, verifier: AttestationVerifier, jobs: JobStore, tick: Duration, logger: Logger) {
        self.client = client
        self.verifier = verifier
        self.jobs = jobs
        self.tick = tick
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await runOnce()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: tick) }
        }
    }

    /// One tick: verify, then run what is due. Public for tests.
    public func runOnce() async {
        do {
            _ = try await verifier.verify(purpose: "worker-tick")
        } catch {
            logger.error("attestation re-verification failed; no job dispatched", metadata: ["step": "\(error.step.rawValue)"])
            return
        }
        let now = Int64(Date().timeIntervalSince1970)
        let lease = max(Int64(tick / .seconds(1)) * 2, 10)
        guard let due = try? await jobs.claimDue(now: now, leaseSeconds: lease, limit: 32) else {
            logger.error("the job store could not be read")
            return
        }
        for job in due {
            if Task.isShuttingDownGracefully { break }
            await run(job)
        }
    }

    private func run(_ job: RevokeJob) async {
        let now = { Int64(Date().timeIntervalSince1970) }
        do {
            try await client.revoke(userID: job.userID, connectorID: job.connectorID)
            try? await jobs.finish(job, state: .succeeded, error: nil, now: now())
            logger.info("revoke job succeeded", metadata: ["job_id": "\(job.id)", "attempts": "\(job.attempts)"])
        } catch {
            if error.retryable {
                let base = min(300.0, pow(2.0, Double(job.attempts)))
                let delay = Int64((base * Double.random(in: 0.5...1.5)).rounded(.up))
                try? await jobs.finish(job, state: .pending, error: error.code, nextAttemptAt: now() + delay, now: now())
                logger.warning("revoke job will retry", metadata: ["job_id": "\(job.id)", "error_code": "\(error.code)", "in_s": "\(delay)"])
            } else {
                try? await jobs.finish(job, state: .failed, error: error.code, now: now())
                logger.error("revoke job failed", metadata: ["job_id": "\(job.id)", "error_code": "\(error.code)"])
            }
        }
    }
}
