import EnclaveClient
import Foundation
import Logging
import ServiceLifecycle

/// The worker's loop as a Service: on each tick, a fresh check of the enclave (attestation and an
/// authenticated ping); no job is dispatched while the latest one failed. Jobs are claimed one
/// at a time, each under a lease of its own. Retryable failures back off exponentially with
/// jitter, capped at 5 minutes; non-retryable ones end the job as failed with the error code.
public struct RevokeWorker: Service {
    let client: EnclaveRPCClient
    let check: EnclaveCheck
    let jobs: any JobStore
    let tick: Duration
    let logger: Logger
    let metrics: HostMetrics?

    /// Jobs run per tick at most, so a tick ends and the enclave is checked again.
    static let jobsPerTick = 32
    static let maxBackoffSeconds = 300.0

    public init(
        client: EnclaveRPCClient, check: EnclaveCheck, jobs: any JobStore, tick: Duration, logger: Logger, metrics: HostMetrics? = nil
    ) {
        self.metrics = metrics
        self.client = client
        self.check = check
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

    /// One tick: check the enclave, then run what is due. Public for tests.
    public func runOnce() async {
        do {
            _ = try await check.run(purpose: "worker-tick")
            metrics?.reverification(failedStep: nil)
        } catch {
            metrics?.reverification(failedStep: error.step.rawValue)
            logger.error("enclave re-verification failed; no job dispatched", metadata: ["step": "\(error.step.rawValue)"])
            return
        }
        // A lease covers one job's work: twice the tick, at least 10 s.
        let lease = max(Int64(tick / .seconds(1)) * 2, 10)
        for _ in 0..<Self.jobsPerTick {
            if Task.isShuttingDownGracefully { break }
            let claimed: RevokeJob?
            do {
                claimed = try await jobs.claimNext(now: Self.now(), leaseSeconds: lease)
            } catch {
                logger.error("the job store could not be read")
                return
            }
            guard let job = claimed else { return }
            await run(job)
        }
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970) }

    /// The wait before attempt `attempts + 1`: 2^attempts seconds with jitter of ±50 %, capped after the jitter.
    static func backoffSeconds(attempts: Int, jitter: Double = Double.random(in: 0.5...1.5)) -> Int64 {
        let base = pow(2.0, Double(min(attempts, 30)))
        return Int64(min(maxBackoffSeconds, (base * jitter).rounded(.up)))
    }

    private func run(_ job: RevokeJob) async {
        let outcome: JobOutcome
        do {
            try await client.revoke(userID: job.userID, connectorID: job.connectorID)
            outcome = .succeeded
        } catch {
            outcome = error.retryable
                ? .retry(error: error.code, nextAttemptAt: Self.now() + Self.backoffSeconds(attempts: job.attempts))
                : .failed(error: error.code)
        }
        let finished = (try? await jobs.finish(job, outcome, now: Self.now())) ?? false
        metrics?.jobAttempt(finished ? outcome.name : "claim_lost")
        guard finished else {
            // The lease lapsed and another worker holds the job now: its outcome stands.
            logger.warning("revoke job was claimed by another worker; this outcome is dropped", metadata: ["job_id": "\(job.id)"])
            return
        }
        switch outcome {
        case .succeeded:
            logger.info("revoke job succeeded", metadata: ["job_id": "\(job.id)", "attempts": "\(job.attempts)"])
        case .retry(let error, let next):
            logger.warning("revoke job will retry", metadata: ["job_id": "\(job.id)", "error_code": "\(error)", "at": "\(next)"])
        case .failed(let error):
            logger.error("revoke job failed", metadata: ["job_id": "\(job.id)", "error_code": "\(error)"])
        }
    }
}
