import EnclaveCrypto
import EnclaveStorage
import Foundation
import PostgresNIO
import ServiceLifecycle

/// Step 6 shared by a fleet: a nonce is accepted only when PostgreSQL recorded it, in one
/// statement (one round trip): the insert succeeds for a new nonce, or takes over the row of one
/// whose window has closed; a live row makes it return nothing, and the request is a replay.
///
/// Rows are keyed by an unkeyed BLAKE2b-256 of the nonce, so every replica computes the same key,
/// across a secret rotation too; the nonce itself is not stored. A row expires when its request's
/// timestamp leaves the skew window (`timestamp + window`), the same for every replica; a replica
/// that passed the request's freshness check at `now` has `now <= expiry`, so it can never take
/// over a live row whatever its clock. When the database cannot be reached the answer is
/// `unavailable` (`store_unavailable`): the check is never skipped.
///
/// As a `Service` it deletes expired rows in batches, in the background: `SKIP LOCKED`, so
/// replicas purging at once, and requests, never wait on it. It deletes only rows expired for a
/// whole window by the server's clock, so a replica whose clock runs behind (by less than the
/// window) still finds the rows it could be replayed against.
final class PostgresReplayGuard: ReplayGuard, Service {
    let database: SharedDatabase
    let windowSeconds: Int64

    static let purgeInterval: Duration = .seconds(10)
    static let purgeBatch = 5000

    init(database: SharedDatabase, windowSeconds: Int) {
        self.database = database
        self.windowSeconds = Int64(windowSeconds)
    }

    static let migrations: [SharedDatabase.Migration] = [
        .init(
            2, "replay guard",
            [
                "CREATE TABLE replay_nonces (nonce_hash bytea PRIMARY KEY, expires_at bigint NOT NULL)",
                "CREATE INDEX replay_nonces_expires_at ON replay_nonces (expires_at)",
            ])
    ]

    /// The row key: BLAKE2b-256 of a label and the nonce's bytes.
    static func key(_ nonce: String) -> Data {
        Data((try? BLAKE2b.hash(Array("alfred-replay-v1\u{0}".utf8) + Array(nonce.utf8), outputLength: 32)) ?? [])
    }

    func record(nonce: String, timestamp: Int64, now: Int64) async -> ReplayOutcome {
        let (expiry, overflow) = timestamp.addingReportingOverflow(windowSeconds)
        guard !overflow else { return .stale }
        let key = Self.key(nonce)
        do {
            let recorded = try await database.perform { client in
                let rows = try await client.query(
                    """
                    INSERT INTO replay_nonces (nonce_hash, expires_at) VALUES (\(key), \(expiry))
                    ON CONFLICT (nonce_hash) DO UPDATE SET expires_at = EXCLUDED.expires_at
                    WHERE replay_nonces.expires_at < \(now)
                    RETURNING 1
                    """)
                for try await _ in rows { return true }
                return false
            }
            return recorded ? .recorded : .replay
        } catch {
            return .unavailable
        }
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.purgeInterval)
                await self.purgeExpired()
            }
        }
    }

    /// Deletes expired rows, a batch per statement, until a batch comes back short.
    func purgeExpired() async {
        while !Task.isCancelled {
            let deleted = try? await database.perform(deadline: .seconds(5)) { client in
                let rows = try await client.query(
                    """
                    WITH deleted AS (
                        DELETE FROM replay_nonces WHERE ctid = ANY(ARRAY(
                            SELECT ctid FROM replay_nonces
                            WHERE expires_at < extract(epoch FROM now())::bigint - \(self.windowSeconds)
                            LIMIT \(Self.purgeBatch) FOR UPDATE SKIP LOCKED))
                        RETURNING 1)
                    SELECT count(*) FROM deleted
                    """)
                for try await count in rows.decode(Int.self) { return count }
                return 0
            }
            guard let deleted, deleted == Self.purgeBatch else { return }
        }
    }
}
