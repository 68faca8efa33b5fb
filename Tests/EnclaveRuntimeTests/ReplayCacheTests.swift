@testable import EnclaveRuntime
import Testing

@Suite("Replay cache")
struct ReplayCacheTests {
    let t0: Int64 = 1_767_225_600

    @Test("A nonce is refused within its window and accepted once ts + skew has passed")
    func window() {
        let cache = ReplayCache(capacity: 1000, windowSeconds: 30)
        #expect(cache.record(nonce: "n2", timestamp: t0 - 30, now: t0) == .recorded)
        #expect(cache.record(nonce: "n1", timestamp: t0, now: t0) == .recorded)
        #expect(cache.record(nonce: "n1", timestamp: t0, now: t0) == .replay)
        #expect(cache.record(nonce: "n1", timestamp: t0 + 5, now: t0 + 30) == .replay)  // still inside ts + 30
        #expect(cache.record(nonce: "n1", timestamp: t0 + 31, now: t0 + 31) == .recorded)  // first entry expired
        #expect(cache.liveCount(now: t0 + 32) == 1)  // n2 expired at t0, n1's second entry lives
        #expect(cache.record(nonce: "n2", timestamp: t0 + 32, now: t0 + 32) == .recorded)
    }

    @Test("A wall clock that steps back never reopens a nonce, and entries are neither leaked nor forgotten")
    func clockStepsBack() {
        let cache = ReplayCache(capacity: 1000, windowSeconds: 30)
        #expect(cache.record(nonce: "back", timestamp: t0, now: t0) == .recorded)  // expiry t0 + 30
        #expect(cache.record(nonce: "later", timestamp: t0 + 31, now: t0 + 31) == .recorded)  // sweeps "back"
        #expect(cache.liveCount(now: t0 + 31) == 1)
        // The clock steps back 26 s: "back" at ts t0 passes a skew check at t0 + 5 again, but its
        // entry is gone. The table's clock stays at t0 + 31, so the request is refused, not recorded.
        #expect(cache.record(nonce: "back", timestamp: t0, now: t0 + 5) == .stale)
        #expect(cache.record(nonce: "later", timestamp: t0 + 31, now: t0 + 5) == .replay)
        // A nonce whose window is still open at the table's clock is recorded as usual.
        #expect(cache.record(nonce: "new", timestamp: t0 + 10, now: t0 + 5) == .recorded)
        #expect(cache.liveCount(now: t0 + 200) == 0)  // swept, not leaked
    }

    @Test("Requests that reach the lock out of order: a sweep by a later one never lets an earlier one's replay in")
    func outOfOrderSweep() {
        // Request A (now = T) passed the skew check with ts = T - 30, the last second of its
        // nonce's window; request B (now = T + 1) takes the lock first and sweeps A's first entry.
        let cache = ReplayCache(capacity: 8, windowSeconds: 30)  // 16 slots: one sweep covers the table
        let T = t0
        #expect(cache.record(nonce: "A", timestamp: T - 30, now: T - 1) == .recorded)  // the original request
        #expect(cache.record(nonce: "B", timestamp: T + 1, now: T + 1) == .recorded)  // sweeps A (expiry T < T + 1)
        #expect(cache.liveCount(now: T + 1) == 1)
        #expect(cache.record(nonce: "A", timestamp: T - 30, now: T) == .stale)  // the replay of A, late to the lock
    }

    @Test("At capacity new nonces are refused and no live nonce is evicted")
    func capacity() {
        let cache = ReplayCache(capacity: 1000, windowSeconds: 30)
        for i in 0..<1000 { #expect(cache.record(nonce: "n\(i)", timestamp: t0, now: t0) == .recorded) }
        #expect(cache.record(nonce: "extra", timestamp: t0, now: t0) == .full)
        #expect(cache.record(nonce: "extra", timestamp: t0, now: t0 + 30) == .full)
        for i in stride(from: 0, to: 1000, by: 37) {
            #expect(cache.record(nonce: "n\(i)", timestamp: t0, now: t0 + 30) == .replay)
        }
        // At capacity the table is read whole at most once per second, however many are refused.
        let laps = cache.wholeLaps
        for i in 0..<100 { #expect(cache.record(nonce: "more\(i)", timestamp: t0, now: t0 + 30) == .full) }
        #expect(cache.wholeLaps == laps)
        // Once the window has passed, room comes back.
        #expect(cache.record(nonce: "extra", timestamp: t0 + 31, now: t0 + 31) == .recorded)
        #expect(cache.liveCount(now: t0 + 31) == 1)
    }

    @Test("After an idle gap every expired entry is swept")
    func idleGap() {
        let cache = ReplayCache(capacity: 1000, windowSeconds: 2)
        for i in 0..<500 { _ = cache.record(nonce: "a\(i)", timestamp: t0 + Int64(i % 3) - 1, now: t0) }
        #expect(cache.liveCount(now: t0) == 500)
        #expect(cache.liveCount(now: t0 + 1000) == 0)
        #expect(cache.record(nonce: "a1", timestamp: t0 + 1000, now: t0 + 1000) == .recorded)
    }

    @Test("The sweep is spread over requests; an expired nonce it has not reached yet counts as absent")
    func incrementalSweep() {
        let cache = ReplayCache(capacity: 10_000, windowSeconds: 30)
        for i in 0..<1000 { #expect(cache.record(nonce: "old\(i)", timestamp: t0 - 30, now: t0) == .recorded) }  // expire at t0
        // One second later each request sweeps a few slots, not all 1,000 expired entries.
        #expect(cache.record(nonce: "new0", timestamp: t0 + 1, now: t0 + 1) == .recorded)
        for i in stride(from: 0, to: 1000, by: 97) {
            #expect(cache.record(nonce: "old\(i)", timestamp: t0 + 1, now: t0 + 1) == .recorded)
            #expect(cache.record(nonce: "old\(i)", timestamp: t0 + 1, now: t0 + 1) == .replay)
        }
        #expect(cache.record(nonce: "new0", timestamp: t0 + 1, now: t0 + 1) == .replay)
        // A whole lap removes exactly the expired entries: the 11 re-recorded ones and new0 live on.
        #expect(cache.liveCount(now: t0 + 1) == 12)
        #expect(cache.record(nonce: "old97", timestamp: t0 + 2, now: t0 + 2) == .replay)
    }

    @Test("Random traffic gets the answers of a plain model (nonce -> expiry), swept lazily or not")
    func matchesModel() {
        var generator = SplitMix64(seed: 0x5eed)
        for capacity in [1000, 40] {
            let window: Int64 = 3
            let cache = ReplayCache(capacity: capacity, windowSeconds: Int(window))
            var model: [String: Int64] = [:]
            var now = t0
            for _ in 0..<20_000 {
                // Mostly the same second, sometimes a step of 1 to 3 seconds, rarely a long gap.
                switch generator.next() % 100 {
                case 0..<90: break
                case 90..<99: now += Int64(1 + generator.next() % 3)
                default: now += Int64(10 + generator.next() % 40)
                }
                let ts = now - window + Int64(generator.next() % UInt64(2 * window + 1))
                let nonce = "n\(generator.next() % 300)"
                model = model.filter { $0.value >= now }
                let expected: ReplayCache.Outcome =
                    model[nonce] != nil ? .replay : model.count >= capacity ? .full : .recorded
                if expected == .recorded { model[nonce] = ts + window }
                #expect(cache.record(nonce: nonce, timestamp: ts, now: now) == expected)
            }
            #expect(cache.tableIsConsistent())
            #expect(cache.liveCount(now: now) == model.filter { $0.value >= now }.count)
            #expect(cache.tableIsConsistent())
        }
    }

    @Test("A table filled to capacity with clustered, expiring entries keeps every live nonce reachable")
    func denseTableStaysConsistent() {
        var generator = SplitMix64(seed: 0xc1_0513)
        let cache = ReplayCache(capacity: 64, windowSeconds: 2)
        var live: [String: Int64] = [:]
        var now = t0
        for step in 0..<50_000 {
            if step % 97 == 0 { now += 1 }
            live = live.filter { $0.value >= now }
            let nonce = "d\(generator.next() % 5_000)"
            let ts = now - 2 + Int64(generator.next() % 5)
            let outcome = cache.record(nonce: nonce, timestamp: ts, now: now)
            let expected: ReplayCache.Outcome = live[nonce] != nil ? .replay : live.count >= 64 ? .full : .recorded
            #expect(outcome == expected)
            if outcome == .recorded { live[nonce] = ts + 2 }
            if step % 1_000 == 0 { #expect(cache.tableIsConsistent()) }
        }
        // Every live nonce is still found.
        for nonce in live.keys { #expect(cache.record(nonce: nonce, timestamp: now, now: now) == .replay) }
        #expect(cache.liveCount(now: now) == live.count)
    }

    @Test("The table is the power of two at or above twice the capacity; sizes that overflow are nil")
    func tableSize() {
        #expect(ReplayCache.slotCount(capacity: 1) == 2)
        #expect(ReplayCache.slotCount(capacity: 1000) == 2048)
        #expect(ReplayCache.slotCount(capacity: 1024) == 2048)
        #expect(ReplayCache.slotCount(capacity: 1025) == 4096)
        #expect(ReplayCache.tableBytes(capacity: 1_000_000) == (1 << 21) * 16)
        #expect(ReplayCache.tableBytes(capacity: 0) == nil && ReplayCache.tableBytes(capacity: Int.max) == nil)
        #expect(ReplayCache.largestCapacity(tableBytes: 32 << 20) == 1 << 20)
        #expect(ReplayCache.largestCapacity(tableBytes: (32 << 20) - 1) == 1 << 19)
        #expect(ReplayCache.largestCapacity(tableBytes: 31) == 0)
    }

    @Test("Concurrent inserts of one nonce admit exactly one")
    func concurrentSameNonce() async {
        let cache = ReplayCache(capacity: 100_000, windowSeconds: 30)
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

/// A small deterministic generator, so a failing sequence can be replayed.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
