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
}

/// A refresh token sealed under one key version.
struct SealedRefreshToken: Sendable, Equatable {
    var bytes: Data
    var keyVersion: Int
}
