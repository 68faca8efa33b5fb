@testable import EnclaveRuntime
import Testing

@Suite("Replay cache")
struct ReplayCacheTests {
    let t0: Int64 = 1_767_225_600

    @Test("A nonce is refused within its window and accepted once ts + skew has passed")
    func window() {
        let cache = ReplayCache(capacity: 1000, windowSeconds: 30, now: t0)
        #expect(cache.record(nonce: "n2", timestamp: t0 - 30, now: t0) == .recorded)
        #expect(cache.record(nonce: "n1", timestamp: t0, now: t0) == .recorded)
        #expect(cache.record(nonce: "n1", timestamp: t0, now: t0) == .replay)
        #expect(cache.record(nonce: "n1", timestamp: t0 + 5, now: t0 + 30) == .replay)  // still inside ts + 30
        #expect(cache.record(nonce: "n1", timestamp: t0 + 31, now: t0 + 31) == .recorded)  // first entry expired
        #expect(cache.count(now: t0 + 32) == 1)  // n2 expired at t0, n1's second entry lives
        #expect(cache.record(nonce: "n2", timestamp: t0 + 32, now: t0 + 32) == .recorded)
    }

    @Test("A wall clock that steps back neither leaks entries nor forgets live ones")
    func clockStepsBack() {
        let cache = ReplayCache(capacity: 1000, windowSeconds: 30, now: t0)
        #expect(cache.count(now: t0 + 100) == 0)  // purge frontier at t0 + 100
        #expect(cache.record(nonce: "back", timestamp: t0, now: t0) == .recorded)  // expiry t0 + 30, behind the frontier
        #expect(cache.record(nonce: "back", timestamp: t0, now: t0 + 10) == .replay)
        #expect(cache.count(now: t0 + 101) == 0)  // purged at the frontier, not leaked
    }

    @Test("At capacity new nonces are refused and no live nonce is evicted")
    func capacity() {
        let cache = ReplayCache(capacity: 1000, windowSeconds: 30, now: t0)
        for i in 0..<1000 { #expect(cache.record(nonce: "n\(i)", timestamp: t0, now: t0) == .recorded) }
        #expect(cache.record(nonce: "extra", timestamp: t0, now: t0) == .full)
        #expect(cache.record(nonce: "extra", timestamp: t0, now: t0 + 30) == .full)
        for i in stride(from: 0, to: 1000, by: 37) {
            #expect(cache.record(nonce: "n\(i)", timestamp: t0, now: t0 + 30) == .replay)
        }
        // Once the window has passed, room comes back.
        #expect(cache.record(nonce: "extra", timestamp: t0 + 31, now: t0 + 31) == .recorded)
        #expect(cache.count(now: t0 + 31) == 1)
    }

    @Test("After an idle gap longer than the ring every expired entry is purged")
    func idleGap() {
        let cache = ReplayCache(capacity: 1000, windowSeconds: 2, now: t0)
        for i in 0..<500 { _ = cache.record(nonce: "a\(i)", timestamp: t0 + Int64(i % 3) - 1, now: t0) }
        #expect(cache.count(now: t0) == 500)
        #expect(cache.count(now: t0 + 1000) == 0)
        #expect(cache.record(nonce: "a1", timestamp: t0 + 1000, now: t0 + 1000) == .recorded)
    }

    @Test("Concurrent inserts of one nonce admit exactly one")
    func concurrentSameNonce() async {
        let cache = ReplayCache(capacity: 100_000, windowSeconds: 30, now: t0)
        for round in 0..<20 {
            let admitted = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<32 {
                    group.addTask { cache.record(nonce: "race-\(round)", timestamp: self.t0, now: self.t0) == .recorded }
                }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(admitted == 1)
        }
    }
}
