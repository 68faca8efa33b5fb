import EnclaveStorage
import Foundation
import PostgresNIO

/// Connectors in PostgreSQL, shared by every replica of a fleet; sealed exactly as in SQLite, with
/// the same associated data, so a record means the same wherever it is read.
///
/// Revoke sets the sealed token to NULL, and then asks for a VACUUM of the table (best effort, as
/// SQLite's checkpoint): an UPDATE in PostgreSQL leaves the row's old version, ciphertext and all,
/// as a dead tuple in its page until a vacuum prunes it. PostgreSQL has no secure_delete: a
/// pruned version's bytes may stay in the page's free space until overwritten, and the WAL and
/// any backup or archive made before hold the old version. What that means for an operator is
/// in the README ("Fleet"): the ciphertext is useless without the data key.
final class PostgresConnectorStore: ConnectorStore {
    let database: SharedDatabase

    init(database: SharedDatabase) {
        self.database = database
    }

    static let migrations: [SharedDatabase.Migration] = [
        .init(
            1, "connectors",
            [
                """
                CREATE TABLE connectors (
                    connector_id text PRIMARY KEY, user_id text NOT NULL, provider text NOT NULL, scopes text NOT NULL,
                    status text NOT NULL CHECK (status IN ('active', 'revoked')),
                    created_at bigint NOT NULL, updated_at bigint NOT NULL,
                    key_id text NOT NULL, key_version integer NOT NULL, sealed_refresh_token bytea)
                """,
                "CREATE INDEX connectors_user_id ON connectors (user_id)",
            ])
    ]

    func insert(_ record: ConnectorRecord) async throws {
        try await database.perform { client in
            try await client.query(
                """
                INSERT INTO connectors (\(unescaped: ConnectorRecord.columns)) VALUES (
                    \(record.connectorID), \(record.userID), \(record.provider), \(record.scopes), \(record.status.rawValue),
                    \(record.createdAt), \(record.updatedAt), \(record.keyID), \(record.keyVersion), \(record.sealedRefreshToken))
                """)
        }
    }

    func find(connectorID: String) async throws -> ConnectorRecord? {
        try await database.perform { client in
            let rows = try await client.query(
                "SELECT \(unescaped: ConnectorRecord.columns) FROM connectors WHERE connector_id = \(connectorID)")
            for try await row in rows.decode((String, String, String, String, String, Int64, Int64, String, Int, Data?).self) {
                guard let status = ConnectorRecord.Status(rawValue: row.4) else { throw StoreError.failed }
                return ConnectorRecord(
                    connectorID: row.0, userID: row.1, provider: row.2, scopes: row.3, status: status, createdAt: row.5,
                    updatedAt: row.6, keyID: row.7, keyVersion: row.8, sealedRefreshToken: row.9)
            }
            return nil
        }
    }

    func markRevoked(connectorID: String, at time: Int64) async throws {
        try await database.perform { client in
            try await client.query(
                """
                UPDATE connectors SET status = 'revoked', sealed_refresh_token = NULL, updated_at = \(time)
                WHERE connector_id = \(connectorID)
                """)
        }
        // Prunes the dead version; a concurrent vacuum holding the table makes this one skip it.
        _ = try? await database.perform { client in try await client.query("VACUUM (SKIP_LOCKED) connectors") }
    }

    func sealedUnder(versions: [Int], afterID: String, limit: Int) async throws -> [ConnectorRecord] {
        try await database.perform { client in
            let rows = try await client.query(
                """
                SELECT \(unescaped: ConnectorRecord.columns) FROM connectors
                WHERE status = 'active' AND sealed_refresh_token IS NOT NULL AND connector_id > \(afterID)
                  AND key_version = ANY(\(versions)) ORDER BY connector_id LIMIT \(limit)
                """)
            var records: [ConnectorRecord] = []
            for try await row in rows.decode((String, String, String, String, String, Int64, Int64, String, Int, Data?).self) {
                guard let status = ConnectorRecord.Status(rawValue: row.4) else { throw StoreError.failed }
                records.append(ConnectorRecord(
                    connectorID: row.0, userID: row.1, provider: row.2, scopes: row.3, status: status, createdAt: row.5,
                    updatedAt: row.6, keyID: row.7, keyVersion: row.8, sealedRefreshToken: row.9))
            }
            return records
        }
    }

    /// One statement per record, each its own commit.
    func reseal(_ changes: [ResealChange]) async throws -> Int {
        try await database.perform { client in
            var replaced = 0
            for change in changes {
                let rows = try await client.query(
                    """
                    UPDATE connectors SET sealed_refresh_token = \(change.new.bytes), key_version = \(change.new.keyVersion)
                    WHERE connector_id = \(change.connectorID) AND status = 'active' AND sealed_refresh_token = \(change.old)
                    RETURNING connector_id
                    """)
                for try await _ in rows { replaced += 1 }
            }
            return replaced
        }
    }

    func countByKeyVersion() async throws -> [Int: Int] {
        try await database.perform { client in
            let rows = try await client.query(
                """
                SELECT key_version, COUNT(*)::bigint FROM connectors
                WHERE status = 'active' AND sealed_refresh_token IS NOT NULL GROUP BY key_version
                """)
            var counts: [Int: Int] = [:]
            for try await (version, count) in rows.decode((Int, Int64).self) { counts[version] = Int(count) }
            return counts
        }
    }

    func updateAfterExchange(connectorID: String, scopes: String?, sealed: SealedRefreshToken?, at time: Int64) async throws {
        let bytes = sealed?.bytes, version = sealed?.keyVersion
        try await database.perform { client in
            try await client.query(
                """
                UPDATE connectors SET scopes = COALESCE(\(scopes), scopes),
                    sealed_refresh_token = COALESCE(\(bytes), sealed_refresh_token),
                    key_version = COALESCE(\(version), key_version), updated_at = \(time)
                WHERE connector_id = \(connectorID) AND status = 'active'
                """)
        }
    }
}
