import Foundation

/// Where connectors live: SQLite in ENCLAVE_STATE_DIR for one runtime (`SQLiteConnectorStore`),
/// PostgreSQL shared by a fleet of replicas (`PostgresConnectorStore`). Both keep the refresh
/// token only sealed, and erase it on revoke. A store that cannot reach its database throws
/// `StoreError.unavailable`; any other failure is a defect.
protocol ConnectorStore: Sendable {
    func insert(_ record: ConnectorRecord) async throws
    func find(connectorID: String) async throws -> ConnectorRecord?
    /// Marks the connector revoked and erases its sealed token, as far as the database allows.
    func markRevoked(connectorID: String, at time: Int64) async throws
    /// Records what an exchange changed, in one write: the scopes the provider granted when they
    /// differ from the stored ones, and the newly sealed refresh token when the provider rotated
    /// it or it was re-sealed under the current key (`keyVersion`, the version it is sealed under).
    /// `updated_at` follows changes to the record, not each use. Only an active connector is
    /// updated: a revoke in between keeps its erased token erased.
    func updateAfterExchange(connectorID: String, scopes: String?, sealed: SealedRefreshToken?, at time: Int64) async throws

    /// Rotation's background walk (`BackgroundReseal`): up to `limit` active records sealed under
    /// one of `versions`, in connector id order after `afterID`.
    func sealedUnder(versions: [Int], afterID: String, limit: Int) async throws -> [ConnectorRecord]
    /// Replaces each record's sealed token `old` by `new` only while it still holds `old`: an
    /// exchange, a revoke or another replica's walk that wrote first wins. How many were replaced.
    /// `updated_at` stays: the record means what it meant.
    func reseal(_ changes: [ResealChange]) async throws -> Int
    /// Active records holding a sealed token, by the key version they are sealed under.
    func countByKeyVersion() async throws -> [Int: Int]
}

/// One record's re-seal under the current key, applied only while it still holds `old`.
struct ResealChange: Sendable {
    var connectorID: String
    var old: Data
    var new: SealedRefreshToken
}

/// A refresh token sealed under one key version.
struct SealedRefreshToken: Sendable, Equatable {
    var bytes: Data
    var keyVersion: Int
}
