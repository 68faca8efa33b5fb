import EnclaveStorage
import Foundation
import GRDB

/// The job store in SQLite in HOST_STATE_DIR, opened as every store is (`PrivateDatabase`: 0600
/// files, each commit synced, so an accepted revoke survives a power loss), safe with the api and
/// the worker open at once: claims happen in one write transaction.
public final class SQLiteJobStore: JobStore {
    let pool: DatabasePool

    public init(directory: String) throws {
        pool = try PrivateDatabase.open(directory: directory, name: "jobs.sqlite", migrator: Self.migrator)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: revoke jobs") { db in
            try db.create(table: "revoke_jobs", options: [.ifNotExists]) { t in
                t.primaryKey("id", .text)
                t.column("user_id", .text).notNull()
                t.column("connector_id", .text).notNull()
                t.column("state", .text).notNull()
                t.column("attempts", .integer).notNull()
                t.column("next_attempt_at", .integer).notNull()
                t.column("lease_until", .integer)
                t.column("last_error", .text)
                t.column("created_at", .integer).notNull()
                t.column("updated_at", .integer).notNull()
            }
        }
        migrator.registerMigration("v2: claim tokens") { db in
            try db.alter(table: "revoke_jobs") { t in t.add(column: "claim_token", .text) }
        }
        return migrator
    }

    static let columns =
        "id, user_id, connector_id, state, attempts, next_attempt_at, lease_until, last_error, created_at, updated_at, claim_token"

    static func job(_ row: Row) throws -> RevokeJob {
        guard let state = RevokeJob.State(rawValue: row[3]) else { throw DatabaseError(message: "unknown job state") }
        return RevokeJob(
            id: row[0], userID: row[1], connectorID: row[2], state: state, attempts: row[4], nextAttemptAt: row[5],
            leaseUntil: row[6], lastError: row[7], createdAt: row[8], updatedAt: row[9], claimToken: row[10])
    }

    public func enqueueRevoke(userID: String, connectorID: String, now: Int64) async throws -> RevokeJob {
        let job = RevokeJob.pending(userID: userID, connectorID: connectorID, now: now)
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO revoke_jobs (\(Self.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    job.id, job.userID, job.connectorID, job.state.rawValue, job.attempts, job.nextAttemptAt, job.leaseUntil,
                    job.lastError, job.createdAt, job.updatedAt, job.claimToken,
                ])
        }
        return job
    }

    public func job(id: String) async throws -> RevokeJob? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.columns) FROM revoke_jobs WHERE id = ?", arguments: [id]).map(Self.job)
        }
    }

    public func claimNext(now: Int64, leaseSeconds: Int64) async throws -> RevokeJob? {
        let token = UUID().uuidString.lowercased()
        return try await pool.write { db in
            let due = try Row.fetchOne(
                db,
                sql: """
                    SELECT \(Self.columns) FROM revoke_jobs
                    WHERE (state = 'pending' AND next_attempt_at <= ?) OR (state = 'running' AND lease_until < ?)
                    ORDER BY next_attempt_at LIMIT 1
                    """, arguments: [now, now]
            ).map(Self.job)
            guard var job = due else { return nil }
            job.state = .running
            job.attempts += 1
            job.leaseUntil = now + leaseSeconds
            job.updatedAt = now
            job.claimToken = token
            try db.execute(
                sql: "UPDATE revoke_jobs SET state = 'running', attempts = ?, lease_until = ?, updated_at = ?, claim_token = ? WHERE id = ?",
                arguments: [job.attempts, job.leaseUntil, now, token, job.id])
            return job
        }
    }

    public func finish(_ job: RevokeJob, _ outcome: JobOutcome, now: Int64) async throws -> Bool {
        let (state, error, next) = outcome.columns(job)
        return try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE revoke_jobs SET state = ?, last_error = ?, next_attempt_at = ?, lease_until = NULL,
                        claim_token = NULL, updated_at = ?
                    WHERE id = ? AND state = 'running' AND claim_token = ?
                    """, arguments: [state.rawValue, error, next, now, job.id, job.claimToken])
            return db.changesCount == 1
        }
    }
}

extension SQLiteJobStore {
    public func countByState() async throws -> [RevokeJob.State: Int] {
        try await pool.read { db in
            var counts: [RevokeJob.State: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, count(*) FROM revoke_jobs GROUP BY state") {
                if let state = RevokeJob.State(rawValue: row[0]) { counts[state] = row[1] }
            }
            return counts
        }
    }
}

extension JobOutcome {
    /// The state, last error and next attempt time a finished job is left with.
    func columns(_ job: RevokeJob) -> (RevokeJob.State, String?, Int64) {
        switch self {
        case .succeeded: (.succeeded, nil, job.nextAttemptAt)
        case .retry(let error, let next): (.pending, error, next)
        case .failed(let error): (.failed, error, job.nextAttemptAt)
        }
    }
}
