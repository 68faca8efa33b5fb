import EnclaveCrypto
import Synchronization

/// Nonces seen within the skew window (docs/contract.md §2, step 6).
///
/// A nonce is kept until `ts + maxSkew` has passed, and never evicted earlier: at capacity new
/// nonces are refused (`replay_cache_full`). Entries are keyed 64-bit BLAKE2b fingerprints, not the
/// nonces (the key is random per process, so no one can aim collisions).
///
/// The table is one open-addressing array of (fingerprint, expiry) slots with linear probing,
/// sized up front to a power of two of at least twice the capacity, so it is never more than half
/// full and never rehashes: an insert reads one or two neighbouring slots, usually one cache line,
/// at any fill (a `Dictionary` keeps keys and values apart and touched three). Memory: 16 bytes per
/// slot, 32 to 64 bytes per nonce at capacity (33.5 at the default 1,000,000).
///
/// An expired entry counts as absent and its slot is reused by the next insert that probes it. A
/// sweep walks the table a few slots per request and deletes what has expired (backward-shift
/// deletion, so no tombstones lengthen the probes); before answering `full` it has run a whole lap
/// within the same second, so `full` means `capacity` live nonces.
///
/// Time inside the table is a high-water clock: the latest `now` any request brought. Requests
/// reach the lock out of order and the wall clock may step back; a request whose nonce's window
/// has already closed by that clock may have had its entry swept, so it is refused (`stale`)
/// rather than recorded again.
public final class ReplayCache: ReplayGuard {
    public typealias Outcome = ReplayOutcome

    struct Slot {
        /// 0 marks an empty slot; a fingerprint of 0 is stored as 1.
        var fingerprint: UInt64
        var expiry: Int64
        static let empty = Slot(fingerprint: 0, expiry: 0)
    }

    private struct Table {
        var slots: [Slot]
        /// Occupied slots, expired or not; never above the capacity.
        var occupied = 0
        /// The next slot the sweep looks at.
        var sweepCursor = 0
        /// The second of the last whole lap: within that second nothing more can expire.
        var lastWholeLap = Int64.min
        var wholeLaps = 0
        /// The high-water clock: never moves back.
        var clock = Int64.min

        var mask: Int { slots.count - 1 }
        func home(_ fingerprint: UInt64) -> Int { Int(truncatingIfNeeded: fingerprint) & mask }
    }

    /// Slots a request sweeps: four sequential cache lines, and the cursor passes every slot once
    /// per slots / 16 requests, so an expired entry waits at most that long for its deletion.
    static let sweepBudget = 16

    public let capacity: Int
    private let windowSeconds: Int64
    private let fingerprintKey: [UInt8]
    private let table: Mutex<Table>

    public init(capacity: Int, windowSeconds: Int) {
        precondition(capacity >= 1, "the replay cache needs a capacity")
        self.capacity = capacity
        self.windowSeconds = Int64(windowSeconds)
        fingerprintKey = (try? SecureRandom.bytes(32)) ?? { preconditionFailure("no randomness for the replay cache key") }()
        guard let slotCount = Self.slotCount(capacity: capacity) else { preconditionFailure("replay capacity too large") }
        table = Mutex(Table(slots: Array(repeating: .empty, count: slotCount)))
    }

    /// The table's slots for `capacity` nonces: the power of two at or above twice the capacity;
    /// nil when the table's size in bytes would not fit in an `Int`.
    static func slotCount(capacity: Int) -> Int? {
        guard capacity >= 1, capacity <= Int.max / 64 else { return nil }
        return max(2, 1 << (Int.bitWidth - (2 * capacity - 1).leadingZeroBitCount))
    }

    /// The memory the table takes from the start (every page is written when it is built), so a
    /// capacity can be refused at configuration time instead of failing the allocation.
    static func tableBytes(capacity: Int) -> Int? {
        slotCount(capacity: capacity).map { $0 * MemoryLayout<Slot>.stride }
    }

    /// The largest capacity whose table takes at most `bytes`.
    static func largestCapacity(tableBytes bytes: Int) -> Int {
        let slots = bytes / MemoryLayout<Slot>.stride
        guard slots >= 2 else { return 0 }
        return (1 << (Int.bitWidth - 1 - slots.leadingZeroBitCount)) / 2
    }

    /// Records `nonce` for a request whose timestamp `ts` already passed the skew check at `now`.
    public func record(nonce: String, timestamp ts: Int64, now: Int64) -> ReplayOutcome {
        let fingerprint = max(BLAKE2b.fingerprint64(nonce, key: fingerprintKey), 1)
        let expiry = ts + windowSeconds
        return table.withLock { table in
            // Judged at the high-water clock, never at a time earlier than one already used to sweep.
            let now = max(table.clock, now)
            table.clock = now
            guard expiry >= now else { return .stale }
            Self.sweep(&table, now: now, slots: Self.sweepBudget)
            // The probe runs to the first empty slot: a live duplicate may sit past expired entries.
            var index = table.home(fingerprint)
            var reusable: Int?
            while table.slots[index].fingerprint != 0 {
                let slot = table.slots[index]
                if slot.fingerprint == fingerprint {
                    if slot.expiry >= now { return .replay }
                    table.slots[index].expiry = expiry
                    return .recorded
                }
                if reusable == nil, slot.expiry < now { reusable = index }
                index = (index + 1) & table.mask
            }
            if let reusable {
                table.slots[reusable] = Slot(fingerprint: fingerprint, expiry: expiry)
                return .recorded
            }
            if table.occupied >= capacity {
                // A whole lap reads the table once (milliseconds at a million slots), so at capacity it
                // runs once per second: until the clock moves on, no entry it kept can expire.
                if now != table.lastWholeLap { Self.sweepWholeLap(&table, now: now) }
                guard table.occupied < capacity else { return .full }
                // The sweep moved entries: probe again for the first empty slot.
                index = table.home(fingerprint)
                while table.slots[index].fingerprint != 0 { index = (index + 1) & table.mask }
            }
            table.slots[index] = Slot(fingerprint: fingerprint, expiry: expiry)
            table.occupied += 1
            return .recorded
        }
    }

    /// Entries held, live or expired and not yet swept: one read under the lock, for metrics.
    public var entries: Int { table.withLock { $0.occupied } }

    /// Live entries after a whole sweep at `now` (for tests: it reads the whole table).
    func liveCount(now: Int64) -> Int {
        table.withLock { table in
            Self.sweepWholeLap(&table, now: now)
            return table.occupied
        }
    }

    /// Whole laps run so far (for tests).
    var wholeLaps: Int { table.withLock { $0.wholeLaps } }

    private static func sweepWholeLap(_ table: inout Table, now: Int64) {
        sweep(&table, now: now, slots: table.slots.count)
        table.lastWholeLap = now
        table.wholeLaps += 1
    }

    /// Whether every entry is reachable from its home slot without crossing an empty one and the
    /// occupied count is right (for tests).
    func tableIsConsistent() -> Bool {
        table.withLock { table in
            var occupied = 0
            for (index, slot) in table.slots.enumerated() where slot.fingerprint != 0 {
                occupied += 1
                var probe = table.home(slot.fingerprint)
                while probe != index {
                    if table.slots[probe].fingerprint == 0 { return false }
                    probe = (probe + 1) & table.mask
                }
            }
            return occupied == table.occupied
        }
    }

    /// Moves the cursor `slots` slots on, deleting the entries that expired before `now`. A deletion
    /// can pull a later entry back into the slot under the cursor, so the cursor stays until that
    /// slot holds a live entry or none; entries only ever move back to slots the cursor has not
    /// passed, so a whole lap leaves no expired entry behind.
    private static func sweep(_ table: inout Table, now: Int64, slots: Int) {
        var cursor = table.sweepCursor
        for _ in 0..<slots {
            while table.slots[cursor].fingerprint != 0, table.slots[cursor].expiry < now {
                delete(&table, at: cursor)
            }
            cursor = (cursor + 1) & table.mask
        }
        table.sweepCursor = cursor
    }

    /// Backward-shift deletion (Knuth, TAOCP vol. 3, algorithm R): every entry after the hole that
    /// may legally sit in it moves back, so each entry stays reachable from its home slot without
    /// crossing an empty one.
    private static func delete(_ table: inout Table, at start: Int) {
        var hole = start
        var next = start
        while true {
            next = (next + 1) & table.mask
            let slot = table.slots[next]
            if slot.fingerprint == 0 { break }
            let home = table.home(slot.fingerprint)
            // The entry stays when its home lies cyclically in (hole, next].
            let stays = hole <= next ? (hole < home && home <= next) : (hole < home || home <= next)
            if stays { continue }
            table.slots[hole] = slot
            hole = next
        }
        table.slots[hole] = .empty
        table.occupied -= 1
    }
}
