// What every store must do, checked on SQLite by the unit tests and on PostgreSQL by the
// integration tests. Connector records are internal to the runtime: debug builds (the tests') only.
import Foundation
import HostServices
import Testing

#if DEBUG
@testable import EnclaveRuntime

/// A connector record of the tests, with the given sealed bytes.
public func connectorRecord(_ id: String, sealed: [UInt8]) -> ConnectorRecord {
    ConnectorRecord(
        connectorID: id, userID: "user", provider: "google", scopes: "email", status: .active, createdAt: 1, updatedAt: 1,
        keyID: "local", keyVersion: 1, sealedRefreshToken: Data(sealed))
}

/// The connector store's contract: a record reads back field for field (a revoked one without its
/// token, one with arbitrary sealed bytes); an unknown id finds nothing.
public enum ConnectorStoreContract {
    public static func readBack(_ store: any ConnectorStore) async throws {
        let record = ConnectorRecord(
            connectorID: "c", userID: "u", provider: "google", scopes: "a b", status: .revoked, createdAt: 1_767_225_600,
            updatedAt: Int64.max, keyID: "kms-key", keyVersion: 7, sealedRefreshToken: nil)
        try await store.insert(record)
        #expect(try await store.find(connectorID: "c") == record)
        try await store.insert(connectorRecord("sealed", sealed: [0, 1, 255]))
        #expect(try await store.find(connectorID: "sealed") == connectorRecord("sealed", sealed: [0, 1, 255]))
        #expect(try await store.find(connectorID: "absent") == nil)
    }

    /// After `readBack`: an exchange's update changes scopes, or the sealed token with its key
    /// version, and leaves a revoked token erased.
    public static func updates(_ store: any ConnectorStore) async throws {
        try await store.updateAfterExchange(connectorID: "sealed", scopes: "a b c", sealed: nil, at: 5)
        var updated = try #require(try await store.find(connectorID: "sealed"))
        #expect(updated.scopes == "a b c" && updated.sealedRefreshToken == Data([0, 1, 255]) && updated.updatedAt == 5)
        try await store.updateAfterExchange(connectorID: "sealed", scopes: nil, sealed: .init(bytes: Data([9]), keyVersion: 2), at: 6)
        updated = try #require(try await store.find(connectorID: "sealed"))
        #expect(updated.scopes == "a b c" && updated.sealedRefreshToken == Data([9]) && updated.keyVersion == 2)

        try await store.markRevoked(connectorID: "sealed", at: 7)
        try await store.updateAfterExchange(connectorID: "sealed", scopes: "x", sealed: .init(bytes: Data([8]), keyVersion: 3), at: 8)
        let revoked = try #require(try await store.find(connectorID: "sealed"))
        #expect(revoked.status == .revoked && revoked.sealedRefreshToken == nil && revoked.scopes == "a b c" && revoked.updatedAt == 7)
    }
}

/// Stores an active connector of user A whose refresh token `vault` sealed, as a register would.
public func insertSealedConnector(_ connectorID: String, vault: TokenVault, into store: any ConnectorStore) async throws {
    let sealed = try vault.seal(refreshToken: "1//refresh-\(connectorID)", userID: userA, connectorID: connectorID)
    try await store.insert(ConnectorRecord(
        connectorID: connectorID, userID: userA, provider: "google", scopes: "s", status: .active, createdAt: 1, updatedAt: 1,
        keyID: vault.policy.keyID, keyVersion: vault.policy.keyVersion, sealedRefreshToken: Data(sealed)))
}
#endif

/// The job store's contract: claims, leases and finishing under the current claim only.
public enum JobStoreContract {
    public static func staleClaimCannotFinish(_ store: any JobStore) async throws {
        let job = try await store.enqueueRevoke(userID: "u", connectorID: "c", now: 100)
        let first = try #require(try await store.claimNext(now: 100, leaseSeconds: 10))
        #expect(first.id == job.id && first.attempts == 1)
        #expect(try await store.claimNext(now: 105, leaseSeconds: 10) == nil, "leased: nobody else claims it")
        // The first worker stalls past its lease; a second one claims the job and finishes it.
        let second = try #require(try await store.claimNext(now: 111, leaseSeconds: 10))
        #expect(second.id == job.id && second.attempts == 2 && second.claimToken != first.claimToken)
        #expect(try await store.finish(second, .failed(error: "connector_token_unavailable"), now: 112))
        // The stale worker comes back: its outcome is dropped, the newer state stands.
        #expect(try await store.finish(first, .succeeded, now: 113) == false)
        let stored = try #require(try await store.job(id: job.id))
        #expect(stored.state == .failed && stored.lastError == "connector_token_unavailable" && stored.updatedAt == 112)
        // A finished job is finished: not even its own claim changes it again.
        #expect(try await store.finish(second, .succeeded, now: 114) == false)
    }

    public static func leasePerJob(_ store: any JobStore) async throws {
        _ = try await store.enqueueRevoke(userID: "u", connectorID: "c1", now: 100)
        _ = try await store.enqueueRevoke(userID: "u", connectorID: "c2", now: 100)
        let a = try #require(try await store.claimNext(now: 100, leaseSeconds: 10))
        let b = try #require(try await store.claimNext(now: 108, leaseSeconds: 10))  // a later job, claimed after the first ran 8 s
        #expect(a.leaseUntil == 110 && b.leaseUntil == 118)
        #expect(try await store.claimNext(now: 111, leaseSeconds: 10)?.id == a.id, "the first lapsed")
        #expect(try await store.claimNext(now: 111, leaseSeconds: 10) == nil, "the second is still leased")
    }
}
