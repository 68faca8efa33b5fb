/// Step 6 of docs/contract.md §2: a nonce is accepted once within its window. The in-memory
/// `ReplayCache` serves one runtime; a fleet shares one in its database.
public protocol ReplayGuard: Sendable {
    /// Records `nonce` of a request whose timestamp `timestamp` passed the skew check at `now`
    /// (Unix seconds), until `timestamp` + the skew window has passed.
    func record(nonce: String, timestamp: Int64, now: Int64) async -> ReplayOutcome
}

public enum ReplayOutcome: Sendable, Equatable {
    case recorded
    /// Seen within its window: `request_replay_detected`.
    case replay
    /// The window has closed by the guard's clock since the skew check: `invalid_request_timestamp`.
    case stale
    /// At capacity, no live nonce evicted: `replay_cache_full`.
    case full
    /// The shared store cannot be reached: `store_unavailable`, never skipped.
    case unavailable
}
