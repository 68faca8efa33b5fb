import EnclaveStorage
import Foundation
import PostgresNIO

/// The job store in PostgreSQL (HOST_DATABASE_URL), shared by several api and worker processes:
/// a claim takes the next due job with `FOR UPDATE SKIP LOCKED` (workers claiming at once each
/// get another job, none waits), and a job is finished only by the holder of its current claim.
public final class PostgresJobStore: JobStore {
    let database: SharedDatabase

    public init(database: SharedDatabase) {
        self.database = database
    }

    public static let component = "hosts"

    public static let migrations: [SharedDatabase.Migration] = [
        .init(
            1, "revoke jobs",
            [
                """
                CREATE TABLE revoke_jobs (
                    id text PRIMARY KEY, user_id text NOT NULL, connector_id text NOT NULL,
                    state text NOT NULL CHECK (state IN ('pending', 'running', 'succeeded', 'failed')),
                    attempts integer NOT NULL, next_attempt_at bigint NOT NULL, lease_until bigint, last_error text,
                    created_at bigint NOT NULL, updated_at bigint NOT NULL, claim_token text)
                """,
                // Only unfinished jobs are ever looked for by time.
                "CREATE INDEX revoke_jobs_due ON revoke_jobs (next_attempt_at) WHERE state IN ('pending', 'running')",
            ])
    ]

    /// Brings the schema up to date; replicas starting together apply it once.
    public func prepare() async throws(StoreError) {
        try await database.migrate(component: Self.component, Self.migrations)
    }

    static let columns =
        "id, user_id, connector_id, state, attempts, next_attempt_at, lease_until, last_error, created_at, updated_at, claim_token"
    typealias Row = (String, String, String, String, Int, Int64, Int64?, String?, Int64, Int64, String?)

    static func job(_ row: Row) throws -> RevokeJob {
        guard let state = RevokeJob.State(rawValue: row.3) else { throw StoreError.failed }
        return RevokeJob(
            id: row.0, userID: row.1, connectorID: row.2, state: state, attempts: row.4, nextAttemptAt: row.5, leaseUntil: row.6,
            lastError: row.7, createdAt: row.8, updatedAt: row.9, claimToken: row.10)
    }

    public func enqueueRevoke(userID: String, connectorID: String, now: Int64) async throws -> RevokeJob {
        let job = RevokeJob.pending(userID: userID, connectorID: connectorID, now: now)
        try await database.perform { client in
            try await client.query(
                """
                INSERT INTO revoke_jobs (\(unescaped: Self.columns)) VALUES (
                    \(job.id), \(job.userID), \(job.connectorID), \(job.state.rawValue), \(job.attempts), \(job.nextAttemptAt),
                    \(job.leaseUntil), \(job.lastError), \(job.createdAt), \(job.updatedAt), \(job.claimToken))
                """)
        }
        return job
    }

    public func job(id: String) async throws -> RevokeJob? {
        try await database.perform { client in
            let rows = try await client.query("SELECT \(unescaped: Self.columns) FROM revoke_jobs WHERE id = \(id)")
            for try await row in rows.decode(Row.self) { return try Self.job(row) }
            return nil
        }
    }

    public func claimNext(now: Int64, leaseSeconds: Int64) async throws -> RevokeJob? {
        let token = UUID().uuidString.lowercased()
        return try await database.perform { client in
            let rows = try await client.query(
                """
                UPDATE revoke_jobs SET state = 'running', attempts = attempts + 1, lease_until = \(now + leaseSeconds),
                    updated_at = \(now), claim_token = \(token)
                WHERE id = (
                    SELECT id FROM revoke_jobs
                    WHERE (state = 'pending' AND next_attempt_at <= \(now)) OR (state = 'running' AND lease_until < \(now))
                    ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED)
                RETURNING \(unescaped: Self.columns)
                """)
            for try await row in rows.decode(Row.self) { return try Self.job(row) }
            return nil
        }
    }

    public func finish(_ job: RevokeJob, _ outcome: JobOutcome, now: Int64) async throws -> Bool {
        let (state, error, next) = outcome.columns(job)
        return try await database.perform { client in
            let rows = try await client.query(
                """
                UPDATE revoke_jobs SET state = \(state.rawValue), last_error = \(error), next_attempt_at = \(next),
                    lease_until = NULL, claim_token = NULL, updated_at = \(now)
                WHERE id = \(job.id) AND state = 'running' AND claim_token = \(job.claimToken)
                RETURNING id
                """)
            for try await _ in rows { return true }
            return false
        }
    }

    public func countByState() async throws -> [RevokeJob.State: Int] {
        try await database.perform { client in
            var counts: [RevokeJob.State: Int] = [:]
            for try await (state, count) in try await client.query("SELECT state, count(*) FROM revoke_jobs GROUP BY state")
                .decode((String, Int).self)
            {
                if let state = RevokeJob.State(rawValue: state) { counts[state] = count }
            }
            return counts
        }
    }
}
