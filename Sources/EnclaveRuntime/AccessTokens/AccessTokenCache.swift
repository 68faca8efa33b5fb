import EnclaveContract
import Foundation
import Synchronization

/// Each connector's latest access token, in memory only (docs/contract.md §7a). An exchange is
/// answered from here while the token has more than 60 s, or a tenth of its lifetime if that is
/// less, left, and only while the connector's row is the one the token was minted from: a revoke,
/// a re-register or a rotated refresh token on any replica changes the row the store returns, and
/// the token is not handed out again. Concurrent exchanges of one row share one provider call (a
/// flight); a failure goes to the callers waiting on that flight and is not kept.
final class AccessTokenCache: Sendable {
    /// The parts of a connector's row a token depends on, as the store returned them.
    struct RowVersion: Hashable, Sendable {
        var sealedRefreshToken: Data?
        var keyID: String
        var keyVersion: Int

        init(_ record: ConnectorRecord) {
            sealedRefreshToken = record.sealedRefreshToken
            keyID = record.keyID
            keyVersion = record.keyVersion
        }
    }

    /// What one provider call gave: the grant, when it was asked for (the token expires no later
    /// than `expires_in` after that), and the row as it is after the call (a rotated refresh token
    /// was stored).
    struct Minted: Sendable {
        var accessToken: String
        var expiresIn: Int?
        var scope: String?
        var requestedAt: ContinuousClock.Instant
        var row: RowVersion
    }

    enum Source: Sendable, Equatable {
        /// This exchange made the provider call.
        case provider
        /// Answered from memory.
        case memory
        /// Waited on another exchange's provider call.
        case shared
    }

    struct Answer: Sendable {
        var accessToken: String
        var expiresIn: Int?
        var scope: String?
        var source: Source
    }

    /// Reports to the metrics (`RuntimeMetrics.accessTokenEvents`); the default records nothing.
    struct Events: Sendable {
        var looked: @Sendable (Source) -> Void = { _ in }
        var evicted: @Sendable (Int) -> Void = { _ in }
    }

    private struct Token: Sendable {
        var accessToken: String
        var scope: String?
        var expiresAt: ContinuousClock.Instant
        var lifetime: Duration
    }

    private struct Entry {
        var row: RowVersion
        var token: Token
    }

    private struct FlightKey: Hashable {
        var connectorID: String
        var row: RowVersion
    }

    private struct State {
        var entries: LeastRecentlyUsed<String, Entry>
        var flights: [FlightKey: Task<Minted, any Error>] = [:]
    }

    /// Memory an entry holds beyond its strings (the node, the key's and the flight's overheads).
    static let entryOverheadBytes = 256

    private let state: Mutex<State>
    private let events: Events
    private let clock = ContinuousClock()

    init(maxEntries: Int, maxBytes: Int, events: Events = Events()) {
        state = Mutex(State(entries: LeastRecentlyUsed(maxEntries: maxEntries, maxBytes: maxBytes)))
        self.events = events
    }

    var count: Int { state.withLock { $0.entries.count } }

    /// The access token for `record`'s row: from memory while it is fresh, else from the flight
    /// in progress for this row, else from `mint`, run once for every caller that arrives while it
    /// runs. `mint` runs in a task of its own, so a caller that goes away does not fail the others.
    func token(
        for record: ConnectorRecord, mint: @escaping @Sendable () async throws(RPCError) -> Minted
    ) async throws(RPCError) -> Answer {
        let key = FlightKey(connectorID: record.connectorID, row: RowVersion(record))
        let now = clock.now
        enum Step { case answer(Answer), join(Task<Minted, any Error>), lead(Task<Minted, any Error>) }
        let step: Step = state.withLock { state in
            if let entry = state.entries.value(for: key.connectorID) {
                if entry.row == key.row, Self.isFresh(entry.token, at: now) {
                    return .answer(Self.answer(entry.token, at: now, source: .memory))
                }
                state.entries.remove(key.connectorID)  // stale, or minted from a row that changed since
            }
            if let flight = state.flights[key] { return .join(flight) }
            // finish() takes the lock, so it runs after the flight is entered below.
            let flight = Task<Minted, any Error> { [self] in
                let result: Result<Minted, RPCError>
                do throws(RPCError) { result = .success(try await mint()) } catch { result = .failure(error) }
                finish(key, result)
                return try result.get()
            }
            state.flights[key] = flight
            return .lead(flight)
        }
        let source: Source
        let minted: Minted
        switch step {
        case .answer(let answer):
            events.looked(.memory)
            return answer
        case .join(let flight), .lead(let flight):
            if case .join = step { source = .shared } else { source = .provider }
            events.looked(source)
            do {
                minted = try await flight.value
            } catch let error as RPCError {
                throw error
            } catch {
                throw RPCError(.rpcInternalError, "the access token could not be obtained")
            }
        }
        // The caller that made the call answers the provider's figure; one that waited, what is left.
        guard source == .shared, let token = Self.token(minted) else {
            return Answer(accessToken: minted.accessToken, expiresIn: minted.expiresIn, scope: minted.scope, source: source)
        }
        return Self.answer(token, at: clock.now, source: source)
    }

    /// Forgets the connector's token (its revoke on this replica; other replicas see the row change).
    func drop(connectorID: String) {
        _ = state.withLock { $0.entries.remove(connectorID) }
    }

    /// Ends the flight and keeps its token, under the row the call left behind.
    private func finish(_ key: FlightKey, _ result: Result<Minted, RPCError>) {
        let evicted: Int = state.withLock { state in
            state.flights[key] = nil
            guard case .success(let minted) = result, let token = Self.token(minted), Self.isFresh(token, at: clock.now) else {
                return 0
            }
            let bytes = Self.entryOverheadBytes + key.connectorID.utf8.count + token.accessToken.utf8.count
                + (token.scope?.utf8.count ?? 0) + (minted.row.sealedRefreshToken?.count ?? 0) + minted.row.keyID.utf8.count
            return state.entries.put(Entry(row: minted.row, token: token), for: key.connectorID, bytes: bytes)
        }
        if evicted > 0 { events.evicted(evicted) }
    }

    /// A token without a positive lifetime is answered once and not kept.
    private static func token(_ minted: Minted) -> Token? {
        guard let seconds = minted.expiresIn, seconds > 0 else { return nil }
        let lifetime = Duration.seconds(seconds)
        return Token(accessToken: minted.accessToken, scope: minted.scope, expiresAt: minted.requestedAt + lifetime, lifetime: lifetime)
    }

    /// More than 60 s, or a tenth of its lifetime if that is less, left.
    private static func isFresh(_ token: Token, at now: ContinuousClock.Instant) -> Bool {
        token.expiresAt - now > min(.seconds(60), token.lifetime / 10)
    }

    /// `expires_in` is the whole seconds really left.
    private static func answer(_ token: Token, at now: ContinuousClock.Instant, source: Source) -> Answer {
        let left = (token.expiresAt - now).components.seconds
        return Answer(accessToken: token.accessToken, expiresIn: Int(left), scope: token.scope, source: source)
    }
}
