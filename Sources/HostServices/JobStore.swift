import Foundation

/// A durable revoke job shared by the api (which records it) and the workers (which run it).
public struct RevokeJob: Sendable, Equatable {
    public enum State: String, Codable, Sendable, CaseIterable {
        case pending, running, succeeded, failed
    }

    public var id: String
    public var userID: String
    public var connectorID: String
    public var state: State
    public var attempts: Int
    public var nextAttemptAt: Int64
    /// While running: when the claim lapses and another worker (or this one after a crash) may retry.
    public var leaseUntil: Int64?
    public var lastError: String?
    public var createdAt: Int64
    public var updatedAt: Int64
    /// While running: the claim that may finish the job. A worker whose lease lapsed and whose job
    /// another worker claimed since holds a stale token, and its finish changes nothing.
    public var claimToken: String?
}

/// How a claimed job ended.
public enum JobOutcome: Sendable, Equatable {
    case succeeded
    /// Back to pending, tried again at `nextAttemptAt`.
    case retry(error: String, nextAttemptAt: Int64)
    case failed(error: String)
}

/// Where jobs live: SQLite in HOST_STATE_DIR for one machine, PostgreSQL for a fleet.
public protocol JobStore: Sendable {
    func enqueueRevoke(userID: String, connectorID: String, now: Int64) async throws -> RevokeJob
    func job(id: String) async throws -> RevokeJob?
    /// Claims the next due job under a lease of its own: a pending one whose time has come, or a
    /// running one whose lease lapsed (its worker died; revoke is idempotent, so running it again
    /// is safe). nil when nothing is due.
    func claimNext(now: Int64, leaseSeconds: Int64) async throws -> RevokeJob?
    /// Ends a claimed job, only while `job`'s claim is still the current one; false when the claim
    /// was lost (the lease lapsed and another worker claimed the job), and nothing changed.
    func finish(_ job: RevokeJob, _ outcome: JobOutcome, now: Int64) async throws -> Bool
    /// How many jobs are in each state (for the metrics scrape).
    func countByState() async throws -> [RevokeJob.State: Int]
}

extension JobOutcome {
    /// The outcome's name in metrics.
    public var name: String {
        switch self {
        case .succeeded: "succeeded"
        case .retry: "retry"
        case .failed: "failed"
        }
    }
}

extension RevokeJob {
    /// A new pending job.
    static func pending(userID: String, connectorID: String, now: Int64) -> RevokeJob {
        RevokeJob(
            id: UUID().uuidString.lowercased(), userID: userID, connectorID: connectorID, state: .pending, attempts: 0,
            nextAttemptAt: now, leaseUntil: nil, lastError: nil, createdAt: now, updatedAt: now, claimToken: nil)
    }
}
