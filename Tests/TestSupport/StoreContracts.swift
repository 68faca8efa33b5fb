// What every store must do, checked on SQLite by the unit tests and on PostgreSQL by the
// integration tests. Connector records are internal to the runtime: debug builds (the tests') only.
import EnclaveCrypto
import Foundation
import HostServices
import Testing

#if DEBUG
@testable import EnclaveRuntime
import Logging

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

/// Rotation's store operations: records under listed versions in id order after a cursor (active,
/// with a token), a compare-and-set re-seal that leaves `updated_at`, counts by version.
public enum ResealContract {
    public static func storeOperations(_ store: any ConnectorStore) async throws {
        for (id, version) in [("r1", 1), ("r2", 2), ("r3", 1), ("r4", 3), ("r5", 1)] {
            var record = connectorRecord(id, sealed: Array(id.utf8))
            record.keyVersion = version
            try await store.insert(record)
        }
        try await store.markRevoked(connectorID: "r5", at: 9)
        #expect(try await store.sealedUnder(versions: [1], afterID: "", limit: 10).map(\.connectorID) == ["r1", "r3"])
        #expect(try await store.sealedUnder(versions: [1, 3], afterID: "r1", limit: 1).map(\.connectorID) == ["r3"])
        #expect(try await store.sealedUnder(versions: [1, 3], afterID: "r3", limit: 5).map(\.connectorID) == ["r4"])
        let new = SealedRefreshToken(bytes: Data([0xAA]), keyVersion: 4)
        let replaced = try await store.reseal([
            ResealChange(connectorID: "r1", old: Data("r1".utf8), new: new),
            ResealChange(connectorID: "r3", old: Data("stale".utf8), new: new),  // someone wrote first
            ResealChange(connectorID: "r5", old: Data("r5".utf8), new: new),  // revoked: stays erased
        ])
        #expect(replaced == 1)
        let r1 = try #require(try await store.find(connectorID: "r1"))
        #expect(r1.sealedRefreshToken == Data([0xAA]) && r1.keyVersion == 4 && r1.updatedAt == 1)
        #expect(try await store.find(connectorID: "r3")?.sealedRefreshToken == Data("r3".utf8))
        #expect(try await store.find(connectorID: "r5")?.sealedRefreshToken == nil)
        #expect(try await store.countByKeyVersion() == [4: 1, 2: 1, 1: 1, 3: 1])
    }

    /// Two walks at once (two replicas) over 250 records under version 1, 20 under 2 and one
    /// under 1 that does not open: every record that opens ends under 2 and opens without the old
    /// key; the broken one stays, counted.
    public static func twoWalkers(_ store: any ConnectorStore) async throws {
        let old = try Sealer(key: [UInt8](repeating: 1, count: 32)), current = try Sealer(key: [UInt8](repeating: 2, count: 32))
        let v1 = TokenVault(sealer: old, policy: KeyPolicy(keyID: "k", keyVersion: 1))
        let v2 = TokenVault(sealer: current, policy: KeyPolicy(keyID: "k", keyVersion: 2), previous: [1: old])
        for i in 0..<250 { try await insertSealedConnector(String(format: "w-%04d", i), vault: v1, into: store) }
        for i in 250..<270 { try await insertSealedConnector(String(format: "w-%04d", i), vault: v2, into: store) }
        var broken = connectorRecord("w-broken", sealed: [UInt8](repeating: 7, count: 60))
        broken.keyID = "k"
        try await store.insert(broken)
        let counts = SealedRecordCounts(currentVersion: 2)
        let walk = BackgroundReseal(store: store, vault: v2, counts: counts, logger: .init(label: "test"), batchSize: 7, pause: .zero)
        async let a: Void = walk.run()
        async let b: Void = walk.run()
        _ = try await (a, b)
        #expect(try await store.countByKeyVersion() == [2: 270, 1: 1])
        #expect(counts.byVersion == [2: 270, 1: 1] && counts.underPreviousVersions == 1)
        let currentOnly = TokenVault(sealer: current, policy: KeyPolicy(keyID: "k", keyVersion: 2))
        for i in 0..<270 {
            let record = try #require(try await store.find(connectorID: String(format: "w-%04d", i)))
            #expect(try currentOnly.open(record) == "1//refresh-\(record.connectorID)")
        }
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
