import EnclaveContract
@testable import EnclaveRuntime
import Foundation
import Synchronization
import Testing

@Suite("Access tokens from memory (docs/contract.md §7a)")
struct AccessTokenCacheTests {
    static func record(_ connectorID: String = "c-1", sealed: [UInt8] = [1, 2, 3], keyVersion: Int = 1) -> ConnectorRecord {
        ConnectorRecord(
            connectorID: connectorID, userID: "u-1", provider: "google", scopes: "s", status: .active, createdAt: 1, updatedAt: 1,
            keyID: "kms/local/alfred-refresh-token", keyVersion: keyVersion, sealedRefreshToken: Data(sealed))
    }

    /// A provider stand-in in process: counts its calls, answers after `delay`, with a token
    /// `age` old of `lifetime` seconds, or fails.
    final class Minter: Sendable {
        let calls = Atomic<Int>(0)
        let delay: Duration
        let lifetime: Int?
        let age: Duration
        let failing: Bool

        init(delay: Duration = .zero, lifetime: Int? = 3600, age: Duration = .zero, failing: Bool = false) {
            (self.delay, self.lifetime, self.age, self.failing) = (delay, lifetime, age, failing)
        }

        func mint(_ record: ConnectorRecord, row: AccessTokenCache.RowVersion? = nil) -> @Sendable () async throws(RPCError) -> AccessTokenCache.Minted {
            { () throws(RPCError) in
                let number = self.calls.add(1, ordering: .relaxed).newValue
                let requestedAt = ContinuousClock.now - self.age
                try? await Task.sleep(for: self.delay)
                if self.failing { throw RPCError(.providerUnavailable, "the provider cannot be reached") }
                return .init(
                    accessToken: "at-\(number)", expiresIn: self.lifetime, scope: "s", requestedAt: requestedAt,
                    row: row ?? AccessTokenCache.RowVersion(record))
            }
        }
    }

    @Test("30 sequential exchanges make one provider call; expires_in is the time really left")
    func sequential() async throws {
        let cache = AccessTokenCache(maxEntries: 10, maxBytes: 1 << 20)
        let minter = Minter(age: .seconds(100))
        let record = Self.record()
        let first = try await cache.token(for: record, mint: minter.mint(record))
        #expect(first.source == .provider && first.accessToken == "at-1" && first.expiresIn == 3600)
        for _ in 0..<29 {
            let again = try await cache.token(for: record, mint: minter.mint(record))
            #expect(again.source == .memory && again.accessToken == "at-1")
            #expect(again.expiresIn == 3499 || again.expiresIn == 3498, "minted 100 s ago: \(again.expiresIn ?? -1)")
        }
        #expect(minter.calls.load(ordering: .relaxed) == 1)
    }

    @Test("Answered while more than 60 s, or a tenth of the lifetime if less, is left; then a new call")
    func freshness() async throws {
        // (lifetime, age, answered from memory). Fresh cases keep 5 s or more from the edge: a loaded
        // machine once took over a second between the two lookups and the 1 s margin failed.
        let cases: [(Int, Int, Bool)] = [
            (3600, 3530, true), (3600, 3541, false), (100, 85, true), (100, 91, false), (30, 22, true), (30, 28, false),
        ]
        for (lifetime, age, fresh) in cases {
            let cache = AccessTokenCache(maxEntries: 10, maxBytes: 1 << 20)
            let minter = Minter(lifetime: lifetime, age: .seconds(age))
            let record = Self.record()
            _ = try await cache.token(for: record, mint: minter.mint(record))
            let next = try await cache.token(for: record, mint: minter.mint(record))
            #expect((next.source == .memory) == fresh, "lifetime \(lifetime), \(age) s old")
            #expect(minter.calls.load(ordering: .relaxed) == (fresh ? 1 : 2))
        }
    }

    @Test("A token without a lifetime is answered and not kept")
    func noLifetime() async throws {
        let cache = AccessTokenCache(maxEntries: 10, maxBytes: 1 << 20)
        let minter = Minter(lifetime: nil)
        let record = Self.record()
        for _ in 0..<3 { #expect(try await cache.token(for: record, mint: minter.mint(record)).expiresIn == nil) }
        #expect(minter.calls.load(ordering: .relaxed) == 3 && cache.count == 0)
    }

    @Test("20 concurrent exchanges of one connector share one provider call")
    func singleFlight() async throws {
        let cache = AccessTokenCache(maxEntries: 10, maxBytes: 1 << 20)
        let minter = Minter(delay: .milliseconds(200))
        let record = Self.record()
        let sources = try await withThrowingTaskGroup(of: AccessTokenCache.Answer.self) { group in
            for _ in 0..<20 { group.addTask { try await cache.token(for: record, mint: minter.mint(record)) } }
            return try await group.reduce(into: [AccessTokenCache.Source: Int]()) { counts, answer in
                #expect(answer.accessToken == "at-1")
                counts[answer.source, default: 0] += 1
            }
        }
        #expect(minter.calls.load(ordering: .relaxed) == 1)
        #expect(sources[.provider] == 1 && (sources[.shared] ?? 0) + (sources[.memory] ?? 0) == 19, "\(sources)")
    }

    @Test("A failure goes to every caller waiting on it and is not kept: the next exchange calls again")
    func sharedFailure() async throws {
        let cache = AccessTokenCache(maxEntries: 10, maxBytes: 1 << 20)
        let failing = Minter(delay: .milliseconds(200), failing: true)
        let record = Self.record()
        let codes = await withTaskGroup(of: RPCErrorCode?.self) { group in
            for _ in 0..<5 {
                group.addTask {
                    do throws(RPCError) { _ = try await cache.token(for: record, mint: failing.mint(record)); return nil } catch { return error.code }
                }
            }
            return await group.reduce(into: [RPCErrorCode?]()) { $0.append($1) }
        }
        #expect(codes == Array(repeating: .providerUnavailable, count: 5))
        #expect(failing.calls.load(ordering: .relaxed) == 1)
        let working = Minter()
        #expect(try await cache.token(for: record, mint: working.mint(record)).source == .provider)
        #expect(working.calls.load(ordering: .relaxed) == 1)
    }

    @Test("A caller that goes away does not fail the callers waiting on its call")
    func leaderCancelled() async throws {
        let cache = AccessTokenCache(maxEntries: 10, maxBytes: 1 << 20)
        let minter = Minter(delay: .milliseconds(300))
        let record = Self.record()
        let leader = Task { try await cache.token(for: record, mint: minter.mint(record)) }
        try await Task.sleep(for: .milliseconds(50))
        let waiter = Task { try await cache.token(for: record, mint: minter.mint(record)) }
        try await Task.sleep(for: .milliseconds(50))
        leader.cancel()
        let answer = try await waiter.value
        #expect(answer.accessToken == "at-1" && minter.calls.load(ordering: .relaxed) == 1)
    }

    @Test("A changed row (another sealed token or key version) is never answered the old token; a rotation keeps the new row's")
    func rowChanges() async throws {
        let cache = AccessTokenCache(maxEntries: 10, maxBytes: 1 << 20)
        let minter = Minter()
        let original = Self.record()
        _ = try await cache.token(for: original, mint: minter.mint(original))
        let resealed = Self.record(sealed: [9, 9, 9])
        #expect(try await cache.token(for: resealed, mint: minter.mint(resealed)).accessToken == "at-2")
        let rekeyed = Self.record(sealed: [9, 9, 9], keyVersion: 2)
        #expect(try await cache.token(for: rekeyed, mint: minter.mint(rekeyed)).accessToken == "at-3")
        // This replica's exchange rotated the refresh token: the token belongs to the row it stored.
        let rotated = Self.record(sealed: [4, 5, 6], keyVersion: 2)
        _ = try await cache.token(for: rekeyed, mint: minter.mint(rekeyed, row: .init(rotated)))
        #expect(try await cache.token(for: rotated, mint: minter.mint(rotated)).accessToken == "at-4")
        #expect(try await cache.token(for: rekeyed, mint: minter.mint(rekeyed)).accessToken == "at-5", "the spent row")
        #expect(minter.calls.load(ordering: .relaxed) == 5)
    }

    @Test("A revoke on this replica drops the token")
    func drop() async throws {
        let cache = AccessTokenCache(maxEntries: 10, maxBytes: 1 << 20)
        let minter = Minter()
        let record = Self.record()
        _ = try await cache.token(for: record, mint: minter.mint(record))
        cache.drop(connectorID: record.connectorID)
        #expect(cache.count == 0)
        #expect(try await cache.token(for: record, mint: minter.mint(record)).source == .provider)
    }

    @Test("Bounded by entries and bytes: the least recently used go first, and are counted")
    func bounds() async throws {
        let evicted = Atomic<Int>(0)
        let cache = AccessTokenCache(
            maxEntries: 3, maxBytes: 1 << 20, events: .init(evicted: { evicted.add($0, ordering: .relaxed) }))
        let minter = Minter()
        for id in ["a", "b", "c"] { _ = try await cache.token(for: Self.record(id), mint: minter.mint(Self.record(id))) }
        _ = try await cache.token(for: Self.record("a"), mint: minter.mint(Self.record("a")))  // a is now the most recent
        _ = try await cache.token(for: Self.record("d"), mint: minter.mint(Self.record("d")))  // b goes
        #expect(cache.count == 3 && evicted.load(ordering: .relaxed) == 1)
        #expect(try await cache.token(for: Self.record("a"), mint: minter.mint(Self.record("a"))).source == .memory)
        #expect(try await cache.token(for: Self.record("b"), mint: minter.mint(Self.record("b"))).source == .provider)

        let small = AccessTokenCache(maxEntries: 100, maxBytes: 2 * (AccessTokenCache.entryOverheadBytes + 64))
        for id in ["a", "b", "c"] { _ = try await small.token(for: Self.record(id), mint: minter.mint(Self.record(id))) }
        #expect(small.count == 2)
    }

    @Test("The bounded map: recency, replacement, removal, and an entry larger than the bound is not kept")
    func leastRecentlyUsed() {
        var map = LeastRecentlyUsed<String, Int>(maxEntries: 3, maxBytes: 100)
        #expect(map.put(1, for: "a", bytes: 10) == 0 && map.put(2, for: "b", bytes: 10) == 0 && map.put(3, for: "c", bytes: 10) == 0)
        #expect(map.keysByRecency == ["c", "b", "a"])
        #expect(map.value(for: "a") == 1 && map.keysByRecency == ["a", "c", "b"])
        #expect(map.put(4, for: "d", bytes: 10) == 1 && map.keysByRecency == ["d", "a", "c"])
        #expect(map.put(5, for: "c", bytes: 10) == 0 && map.keysByRecency == ["c", "d", "a"] && map.value(for: "c") == 5)
        #expect(map.put(6, for: "e", bytes: 75) == 1 && map.keysByRecency == ["e", "c", "d"] && map.bytes == 95)
        #expect(map.put(7, for: "g", bytes: 20) == 2 && map.keysByRecency == ["g", "e"] && map.bytes == 95)  // d for the count, c for the bytes
        #expect(map.put(8, for: "f", bytes: 101) == 0 && map.value(for: "f") == nil && map.count == 2)
        #expect(map.remove("g") == 7 && map.remove("g") == nil && map.keysByRecency == ["e"] && map.bytes == 75)
        for round in 0..<1000 { map.put(round, for: "k\(round % 7)", bytes: 1) }
        #expect(map.count == 3 && map.bytes == 3 && map.keysByRecency == ["k5", "k4", "k3"])
    }
}
