import CoreMetrics
import EnclaveContract
import EnclaveCrypto
import EnclaveMetrics
import EnclaveStorage
import Foundation
import Synchronization

/// What the runtime records, when ENCLAVE_METRICS_BIND_ADDR is set (otherwise there is no
/// instance, and nothing is recorded). Families and their labels are in `MetricFamily`.
final class RuntimeMetrics: Sendable {
    let registry: MetricsRegistry
    private let authRefusals: LabelledMetrics<CoreMetrics.Counter>
    private let providerCalls: LabelledMetrics<CoreMetrics.Timer>
    private let storeOperations: LabelledMetrics<CoreMetrics.Counter>
    private let challengeOutcomes: LabelledMetrics<CoreMetrics.Counter>
    private let auditWriteFailures: CoreMetrics.Counter
    init(registry: MetricsRegistry) {
        self.registry = registry
        let factory = registry.factory
        authRefusals = LabelledMetrics(counters: .runtimeAuthRefusals, factory: factory)
        providerCalls = LabelledMetrics(timers: .providerDuration, factory: factory)
        storeOperations = LabelledMetrics(counters: .storeOperations, factory: factory)
        challengeOutcomes = LabelledMetrics(counters: .challenges, factory: factory)
        auditWriteFailures = CoreMetrics.Counter(label: MetricFamily.auditWriteFailures.rawValue, factory: factory)
        // Present from the first scrape, before any failure.
        auditWriteFailures.increment(by: 0)
    }

    /// One route's request counters (the router holds one per route, and one for `other`, so the
    /// label set stays bounded and a request's count is a lookup by status).
    func requestCounters(route: String) -> RequestCounters {
        RequestCounters(route: route, factory: registry.factory)
    }

    func authenticationRefused(_ code: RPCErrorCode) { authRefusals(code.rawValue).increment() }

    func providerCall(_ operation: String, outcome: String, duration: Duration) {
        providerCalls(operation, outcome).recordNanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    func storeOperation(_ operation: String, outcome: String) { storeOperations(operation, outcome).increment() }

    func challenge(_ outcome: String) { challengeOutcomes(outcome).increment() }

    func auditWriteFailed() { auditWriteFailures.increment() }

    /// Build info, and the gauges read at each scrape: the replay cache's fill (an O(1) read) and
    /// the Nitro document's age.
    func describe(
        attestationSource: String, store: String, replayCache: ReplayCache?, attestation: AttestationState?,
        accessTokens: AccessTokenCache?, sealedRecords: SealedRecordCounts? = nil
    ) {
        let factory = registry.factory
        CoreMetrics.Gauge(
            label: MetricFamily.runtimeBuild.rawValue,
            dimensions: [
                ("version", RuntimeBuild.version), ("core_version", EnclaveCore.version), ("attestation_source", attestationSource),
                ("store", store),
            ], factory: factory
        ).record(1)
        if let replayCache {
            let entries = CoreMetrics.Gauge(label: MetricFamily.replayCacheEntries.rawValue, factory: factory)
            CoreMetrics.Gauge(label: MetricFamily.replayCacheCapacity.rawValue, factory: factory).record(replayCache.capacity)
            registry.beforeScrape { entries.record(replayCache.entries) }
        }
        if let accessTokens {
            let held = CoreMetrics.Gauge(label: MetricFamily.accessTokenEntries.rawValue, factory: factory)
            registry.beforeScrape { held.record(accessTokens.count) }
        }
        if let sealedRecords {
            // A version whose records are all re-sealed reads 0, not its last count.
            let seen = Mutex<[Int: CoreMetrics.Gauge]>([:])
            registry.beforeScrape {
                let counts = sealedRecords.byVersion
                seen.withLock { gauges in
                    for version in counts.keys where gauges[version] == nil {
                        gauges[version] = CoreMetrics.Gauge(
                            label: MetricFamily.sealedRecords.rawValue, dimensions: [("key_version", String(version))], factory: factory)
                    }
                    for (version, gauge) in gauges { gauge.record(counts[version] ?? 0) }
                }
            }
        }
        if let attestation {
            let age = CoreMetrics.Gauge(label: MetricFamily.nitroDocumentAge.rawValue, factory: factory)
            // In milliseconds, as challenges judge it: whole seconds read 4 for a document 4.9 s old.
            registry.beforeScrape {
                let nowMilliseconds = Int64(Date().timeIntervalSince1970 * 1000)
                age.record(Double(max(0, nowMilliseconds - attestation.current.issuedAtMilliseconds)) / 1000)
            }
        }
    }

    /// The access-token cache's lookups and evictions, present from the first scrape (its size is
    /// a gauge of `describe`).
    var accessTokenEvents: AccessTokenCache.Events {
        let factory = registry.factory
        let lookups = LabelledMetrics(counters: .accessTokenLookups, factory: factory)
        for outcome in ["hit", "miss", "shared"] { lookups(outcome).increment(by: 0) }
        let evictions = CoreMetrics.Counter(label: MetricFamily.accessTokenEvictions.rawValue, factory: factory)
        evictions.increment(by: 0)
        return AccessTokenCache.Events(
            looked: { source in
                switch source {
                case .memory: lookups("hit").increment()
                case .provider: lookups("miss").increment()
                case .shared: lookups("shared").increment()
                }
            },
            evicted: { evictions.increment(by: Int64($0)) })
    }

    /// The NSM refresher's reports (asked for only when documents come from the NSM).
    var nsm: NSMMetrics {
        let failures = CoreMetrics.Counter(label: MetricFamily.nitroRefreshFailures.rawValue, factory: registry.factory)
        failures.increment(by: 0)
        return NSMMetrics(refreshed: { _ in }, failed: { failures.increment() })
    }
}

/// Requests to one route by status, each status's counter made once.
final class RequestCounters: Sendable {
    private let route: String
    private let factory: SendableFactory
    private let byStatus = Mutex<[Int: CoreMetrics.Counter]>([:])

    init(route: String, factory: any MetricsFactory) {
        self.route = route
        self.factory = SendableFactory(factory)
    }

    func count(status: Int) {
        byStatus.withLock { counters in
            if let counter = counters[status] { return counter }
            let counter = CoreMetrics.Counter(
                label: MetricFamily.runtimeRequests.rawValue, dimensions: [("route", route), ("status", String(status))],
                factory: factory.factory)
            counters[status] = counter
            return counter
        }.increment()
    }
}

/// What runs, for `enclave_build_info` and the log.
public enum RuntimeBuild {
    public static let version = "0.6.0"
}

/// The connector store with each operation counted by outcome (ok, unavailable, failed).
struct InstrumentedConnectorStore: ConnectorStore {
    let store: any ConnectorStore
    let metrics: RuntimeMetrics

    private func counted<T>(_ operation: String, _ work: () async throws -> T) async throws -> T {
        do {
            let result = try await work()
            metrics.storeOperation(operation, outcome: "ok")
            return result
        } catch {
            metrics.storeOperation(operation, outcome: (error as? StoreError) == .unavailable ? "unavailable" : "failed")
            throw error
        }
    }

    func insert(_ record: ConnectorRecord) async throws {
        try await counted("insert") { try await store.insert(record) }
    }

    func find(connectorID: String) async throws -> ConnectorRecord? {
        try await counted("find") { try await store.find(connectorID: connectorID) }
    }

    func markRevoked(connectorID: String, at time: Int64) async throws {
        try await counted("revoke") { try await store.markRevoked(connectorID: connectorID, at: time) }
    }

    func sealedUnder(versions: [Int], afterID: String, limit: Int) async throws -> [ConnectorRecord] {
        try await counted("reseal_scan") { try await store.sealedUnder(versions: versions, afterID: afterID, limit: limit) }
    }

    func reseal(_ changes: [ResealChange]) async throws -> Int {
        try await counted("reseal") { try await store.reseal(changes) }
    }

    func countByKeyVersion() async throws -> [Int: Int] {
        try await counted("count") { try await store.countByKeyVersion() }
    }

    func updateAfterExchange(connectorID: String, scopes: String?, sealed: SealedRefreshToken?, at time: Int64) async throws {
        try await counted("update") {
            try await store.updateAfterExchange(connectorID: connectorID, scopes: scopes, sealed: sealed, at: time)
        }
    }
}
