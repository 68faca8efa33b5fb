import EnclaveConfiguration
import Foundation
import GRDB

/// A durable revoke job shared by the api (which records it) and the worker (which runs it).
public struct RevokeJob: Codable, FetchableRecord, PersistableRecord, Sendable, Equatable {
    public static let databaseTableName = "revoke_jobs"

    public enum State: String, Codable, Sendable {
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

    enum CodingKeys: String, CodingKey {
        case id, state, attempts
        case userID = "user_id"
        case connectorID = "connector_id"
        case nextAttemptAt = "next_attempt_at"
        case leaseUntil = "lease_until"
        case lastError = "last_error"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

/// SQLite in HOST_STATE_DIR (WAL through GRDB's DatabasePool), safe with the api and the worker
/// open at once: claims happen in one immediate write transaction. Each commit is on disk before
/// it is answered (`synchronous = FULL`, not GRDB's WAL default NORMAL): a revoke the api has
/// accepted must not vanish on power loss and leave the token alive. The files are 0600: they
/// name users and their connectors.
public final class JobStore: Sendable {
    let pool: DatabasePool

    public init(directory: String) throws {
        try PrivateFiles.createDirectory(directory)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        let path = (directory as NSString).appendingPathComponent("jobs.sqlite")
        try PrivateFiles.prepareDatabase(path)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: revoke jobs") { db in
            try db.create(table: RevokeJob.databaseTableName, options: [.ifNotExists]) { t in
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
        // The api and the worker may start at the same instant. Both opening (the switch to WAL
        // needs a lock that SQLite does not wait for) and migrating can then fail with "database
        // is locked": the loser retries and finds the database in WAL mode, migrated.
        var attempt = 0
        while true {
            do {
                let pool = try DatabasePool(path: path, configuration: configuration)
                // On the one writer connection, after GRDB's WAL setup (which sets NORMAL).
                try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
                try migrator.migrate(pool)
                self.pool = pool
                break
            } catch {
                attempt += 1
                if attempt >= 10 { throw error }
                Thread.sleep(forTimeInterval: 0.05 * Double(attempt))
            }
        }
    }

    public func enqueueRevoke(userID: String, connectorID: String, now: Int64) async throws -> RevokeJob {
        let job = RevokeJob(
            id: UUID().uuidString.lowercased(), userID: userID, connectorID: connectorID, state: .pending, attempts: 0,
            nextAttemptAt: now, leaseUntil: nil, lastError: nil, createdAt: now, updatedAt: now)
        try await pool.write { db in try job.insert(db) }
        return job
    }

    public func job(id: String) async throws -> RevokeJob? {
        try await pool.read { db in try RevokeJob.fetchOne(db, key: id) }
    }

    /// Claims due jobs: pending ones whose time has come, and running ones whose lease lapsed
    /// (a worker died mid-job; revoke is idempotent, so running it again is safe).
    public func claimDue(now: Int64, leaseSeconds: Int64, limit: Int) async throws -> [RevokeJob] {
        try await pool.write { db in
            let due = try RevokeJob
                .filter(sql: "(state = 'pending' AND next_attempt_at <= ?) OR (state = 'running' AND lease_until < ?)", arguments: [now, now])
                .order(sql: "next_attempt_at").limit(limit).fetchAll(db)
            return try due.map { job in
                var claimed = job
                claimed.state = .running
                claimed.attempts += 1
                claimed.leaseUntil = now + leaseSeconds
                claimed.updatedAt = now
                try claimed.update(db)
                return claimed
            }
        }
    }

    public func finish(_ job: RevokeJob, state: RevokeJob.State, error: String?, nextAttemptAt: Int64? = nil, now: Int64) async throws {
        try await pool.write { db in
            var updated = job
            updated.state = state
            updated.lastError = error
            updated.leaseUntil = nil
            updated.nextAttemptAt = nextAttemptAt ?? job.nextAttemptAt
            updated.updatedAt = now
            try updated.update(db)
        }
    }
}
