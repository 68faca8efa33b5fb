import EnclaveStorage
import Foundation
import GRDB

extension ConnectorRecord.Status: DatabaseValueConvertible {}

extension ConnectorRecord: FetchableRecord, PersistableRecord {
    static let databaseTableName = "connectors"

    /// The columns `init(row:)` reads, in its order.
    static let columns = "connector_id, user_id, provider, scopes, status, created_at, updated_at, key_id, key_version, sealed_refresh_token"

    /// Read by position from a SELECT of `columns`. GRDB's default for a Decodable record, keyed
    /// decoding by column name, cost about 5 µs of every exchange. As there, an unknown status
    /// throws and other values are converted as SQLite converts them.
    init(row: Row) throws {
        connectorID = try row.decode(atIndex: 0)
        userID = try row.decode(atIndex: 1)
        provider = try row.decode(atIndex: 2)
        scopes = try row.decode(atIndex: 3)
        status = try row.decode(atIndex: 4)
        createdAt = try row.decode(atIndex: 5)
        updatedAt = try row.decode(atIndex: 6)
        keyID = try row.decode(atIndex: 7)
        keyVersion = try row.decode(atIndex: 8)
        sealedRefreshToken = try row.decode(atIndex: 9)
    }
}

/// SQLite in the state directory (WAL mode through GRDB's DatabasePool), with versioned migrations.
///
/// Writes are rare (register, revoke, a changed scope), so each pays for safety: a commit is on
/// disk before it is answered (`synchronous = FULL`; GRDB's WAL default NORMAL can lose the last
/// commits on power loss, and a lost revoke would bring a sealed token back), and deleted content
/// is overwritten with zeros (`secure_delete`; Debian's SQLite has it on by default, others do not),
/// so a revoked token's ciphertext does not linger in a page's free space next to a local data key.
final class SQLiteConnectorStore: ConnectorStore {
    let pool: DatabasePool

    init(directory: String) throws {
        // Readers never write, so secure_delete on the writer connection covers every deletion.
        pool = try PrivateDatabase.open(
            directory: directory, name: "connectors.sqlite", migrator: Self.migrator, pragmas: ["PRAGMA secure_delete = ON"])
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: connectors") { db in
            try db.create(table: ConnectorRecord.databaseTableName) { t in
                t.primaryKey("connector_id", .text)
                t.column("user_id", .text).notNull().indexed()
                t.column("provider", .text).notNull()
                t.column("scopes", .text).notNull()
                t.column("status", .text).notNull()
                t.column("created_at", .integer).notNull()
                t.column("updated_at", .integer).notNull()
                t.column("key_id", .text).notNull()
                t.column("key_version", .integer).notNull()
                t.column("sealed_refresh_token", .blob)
            }
        }
        return migrator
    }

    func insert(_ record: ConnectorRecord) async throws {
        try await pool.write { db in try record.insert(db) }
    }

    private static let findSQL = "SELECT \(ConnectorRecord.columns) FROM connectors WHERE connector_id = ?"

    func find(connectorID: String) async throws -> ConnectorRecord? {
        try findBlocking(connectorID)
    }

    /// Every token RPC looks its connector up: the statement is prepared once per connection.
    /// `unsafeRead` skips the BEGIN and COMMIT that `read` wraps around its block, which isolate
    /// several statements from concurrent writes; one SELECT is its own read transaction.
    ///
    /// Synchronous, on the caller's thread: one primary-key SELECT in WAL mode, which no writer
    /// blocks, takes a few microseconds, while GRDB's async read hops to its queue and back for
    /// about 80 µs on this 2-core machine, which made an exchange answered from memory 4.3 × a
    /// signed ping (1.3 × now; RPCPath "cached exchange against signed ping"). At most one read
    /// per cooperative thread, so the pool's five readers never run out.
    private func findBlocking(_ connectorID: String) throws -> ConnectorRecord? {
        try pool.unsafeRead { db in
            try ConnectorRecord.fetchOne(db.cachedStatement(sql: Self.findSQL), arguments: [connectorID])
        }
    }

    /// Marks the connector revoked and erases its sealed token, from the files too: the WAL still
    /// holds the page images written before (the register's among them) until a checkpoint moves
    /// the zeroed page into the database file and truncates the log. The checkpoint is best effort:
    /// the revoke is committed either way, and one that waits out the busy timeout on a reader
    /// leaves the images for the next revoke's checkpoint.
    func markRevoked(connectorID: String, at time: Int64) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE connectors SET status = 'revoked', sealed_refresh_token = NULL, updated_at = ? WHERE connector_id = ?",
                arguments: [time, connectorID])
        }
        _ = try? await pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
    }

    func sealedUnder(versions: [Int], afterID: String, limit: Int) async throws -> [ConnectorRecord] {
        try await pool.read { db in
            try ConnectorRecord.fetchAll(
                db,
                sql: """
                    SELECT \(ConnectorRecord.columns) FROM connectors
                    WHERE status = 'active' AND sealed_refresh_token IS NOT NULL AND connector_id > ?
                      AND key_version IN (\(versions.map(String.init).joined(separator: ",")))
                    ORDER BY connector_id LIMIT ?
                    """,
                arguments: [afterID, limit])
        }
    }

    /// One transaction for the batch: one synchronous commit, not one per record.
    func reseal(_ changes: [ResealChange]) async throws -> Int {
        try await pool.write { db in
            var replaced = 0
            for change in changes {
                try db.execute(
                    sql: """
                        UPDATE connectors SET sealed_refresh_token = ?, key_version = ?
                        WHERE connector_id = ? AND status = 'active' AND sealed_refresh_token = ?
                        """,
                    arguments: [change.new.bytes, change.new.keyVersion, change.connectorID, change.old])
                replaced += db.changesCount
            }
            return replaced
        }
    }

    func countByKeyVersion() async throws -> [Int: Int] {
        try await pool.read { db in
            var counts: [Int: Int] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT key_version, COUNT(*) FROM connectors WHERE status = 'active' AND sealed_refresh_token IS NOT NULL GROUP BY key_version")
            {
                counts[row[0]] = row[1]
            }
            return counts
        }
    }

    /// Both changes in one transaction.
    func updateAfterExchange(connectorID: String, scopes: String?, sealed: SealedRefreshToken?, at time: Int64) async throws {
        try await pool.write { db in
            if let scopes {
                try db.execute(
                    sql: "UPDATE connectors SET scopes = ?, updated_at = ? WHERE connector_id = ? AND status = 'active'",
                    arguments: [scopes, time, connectorID])
            }
            if let sealed {
                try db.execute(
                    sql: "UPDATE connectors SET sealed_refresh_token = ?, key_version = ?, updated_at = ? WHERE connector_id = ? AND status = 'active'",
                    arguments: [sealed.bytes, sealed.keyVersion, time, connectorID])
            }
        }
    }
}
