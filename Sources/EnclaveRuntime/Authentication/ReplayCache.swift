import EnclaveCrypto
import Synchronization

/// Nonces seen within the skew window (CONTRACT.md section 2, step 6).
///
/// A nonce is kept until `ts + maxSkew` has passed, and never evicted earlier: at capacity new
/// nonces are refused (`replay_cache_full`). Entries are keyed 64-bit BLAKE2b fingerprints, not the
/// nonces (the key is random per process, so no one can aim collisions). The dictionary is sized
/// for the capacity up front, so inserts never rehash and cost the same at any fill; expired
/// entries are dropped through a ring of per-second buckets, each entry once. Memory: about
/// 16 bytes per dictionary slot (load factor at most 3/4, rounded to a power of two) plus 8 bytes
/// in its bucket, so at most 8 + 16 * 8/3 ≈ 51 bytes per nonce at capacity.
///
/// The purge is spread over requests: each one drops a few expired entries. Purging a whole
/// second at once held the lock for milliseconds at saturation (tens of thousands of entries),
/// stalling every RPC behind it once a second. An entry that has expired but is not yet purged
/// counts as absent; before answering `full` the purge catches up completely.
public final class ReplayCache: Sendable {
    public enum Outcome: Sendable, Equatable {
        case recorded
        case replay
        case full
    }

    private struct State {
        var expiries: [UInt64: Int64]
        /// buckets[s % count] holds the fingerprints expiring at second s.
        var buckets: [[UInt64]]
        /// Every second before this one has been purged.
        var purgedBefore: Int64
    }

    /// Expired entries a request purges: more than the one it adds, so the purge keeps up.
    static let purgeBudget = 8
    /// Seconds the purge may trail the clock before a request waits for it to catch up.
    static let maxPurgeLag: Int64 = 4

    public let capacity: Int
    private let windowSeconds: Int64
    private let fingerprintKey: [UInt8]
    private let state: Mutex<State>

    public init(capacity: Int, windowSeconds: Int, now: Int64) {
        self.capacity = capacity
        self.windowSeconds = Int64(windowSeconds)
        fingerprintKey = (try? SecureRandom.bytes(32)) ?? { preconditionFailure("no randomness for the replay cache key") }()
        // Expiries lie in [now, now + 2 * window] for any accepted timestamp; seconds still to be
        // purged lie in [now - maxPurgeLag, now). The ring is longer than that whole span, so an
        // entry is never filed in a bucket that is still waiting for an older lap's purge.
        let ring = 2 * windowSeconds + 2 + Int(Self.maxPurgeLag)
        state = Mutex(State(expiries: Dictionary(minimumCapacity: capacity), buckets: Array(repeating: [], count: ring),
                            purgedBefore: now))
    }

    /// Records `nonce` for a request whose timestamp `ts` already passed the skew check at `now`.
    public func record(nonce: String, timestamp ts: Int64, now: Int64) -> Outcome {
        let fingerprint = BLAKE2b.fingerprint64(nonce, key: fingerprintKey)
        let expiry = ts + windowSeconds
        return state.withLock { state in
            let lag = now - state.purgedBefore
            Self.purge(&state, now: now, budget: lag > Self.maxPurgeLag ? .max : Self.purgeBudget)
            if state.expiries.count >= capacity {
                Self.purge(&state, now: now, budget: .max)
                // Purged completely just now, so every entry left is live.
                guard state.expiries.count < capacity else {
                    return state.expiries[fingerprint] != nil ? .replay : .full
                }
            }
            // One hash lookup inserts. A live first sighting is put back; an expired one that the
            // purge has not reached yet is replaced (its old bucket entry is skipped when purged).
            if let first = state.expiries.updateValue(expiry, forKey: fingerprint), first >= now {
                state.expiries[fingerprint] = first
                return .replay
            }
            // If the wall clock stepped back, the expiry second may already be behind the purge
            // frontier: file the entry at the frontier so the next purge still finds it.
            let bucketSecond = max(expiry, state.purgedBefore)
            state.buckets[Int(bucketSecond % Int64(state.buckets.count))].append(fingerprint)
            return .recorded
        }
    }

    /// Live entries (for tests and metrics).
    public func count(now: Int64) -> Int {
        state.withLock { state in
            Self.purge(&state, now: now, budget: .max)
            return state.expiries.count
        }
    }

    /// Drops up to `budget` entries filed for seconds before `now`, oldest second first, removing
    /// those whose expiry has passed (a fingerprint recorded again later stays).
    private static func purge(_ state: inout State, now: Int64, budget: Int) {
        let ring = Int64(state.buckets.count)
        // After a long idle gap every bucket is stale: one lap visits each once.
        if now - state.purgedBefore > ring { state.purgedBefore = now - ring }
        var budget = budget
        while state.purgedBefore < now {
            let index = Int(state.purgedBefore % ring)
            // After a gap a bucket may hold entries of an older lap: drop whatever has expired.
            while budget > 0, let fingerprint = state.buckets[index].popLast() {
                budget -= 1
                if let expiry = state.expiries[fingerprint], expiry < now { state.expiries[fingerprint] = nil }
            }
            guard state.buckets[index].isEmpty else { return }
            state.purgedBefore += 1
        }
    }
}
