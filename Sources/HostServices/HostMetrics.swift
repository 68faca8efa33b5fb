import CoreMetrics
import EnclaveClient
import EnclaveCrypto
import EnclaveMetrics

/// What the api and the worker record, when their metrics listener is configured
/// (API_METRICS_BIND_ADDR, WORKER_METRICS_BIND_ADDR). Families are in `MetricFamily`.
public final class HostMetrics: EnclaveCallObserver {
    public let registry: MetricsRegistry
    private let requests: LabelledMetrics<CoreMetrics.Counter>
    private let probes: LabelledMetrics<CoreMetrics.Counter>
    private let reverifications: LabelledMetrics<CoreMetrics.Counter>
    private let jobAttempts: LabelledMetrics<CoreMetrics.Counter>
    private let enclaveCalls: LabelledMetrics<CoreMetrics.Timer>
    private let unauthenticated: LabelledMetrics<CoreMetrics.Counter>

    /// `acceptsStaticAttestation`: see `EnclaveClientConfiguration.acceptsStaticAttestation`.
    public init(registry: MetricsRegistry, store: String, acceptsStaticAttestation: Bool) {
        self.registry = registry
        let factory = registry.factory
        requests = LabelledMetrics(counters: .hostRequests, factory: factory)
        probes = LabelledMetrics(counters: .hostProbes, factory: factory)
        reverifications = LabelledMetrics(counters: .hostReverifications, factory: factory)
        jobAttempts = LabelledMetrics(counters: .hostJobAttempts, factory: factory)
        enclaveCalls = LabelledMetrics(timers: .hostEnclaveCallDuration, factory: factory)
        unauthenticated = LabelledMetrics(counters: .hostUnauthenticatedAnswers, factory: factory)
        CoreMetrics.Gauge(
            label: MetricFamily.hostBuild.rawValue,
            dimensions: [
                ("version", HostBuild.version), ("core_version", EnclaveCore.version), ("store", store),
                ("accepts_static_attestation", String(acceptsStaticAttestation)),
            ], factory: factory
        ).record(1)
    }

    /// Jobs by state, read from the store at each scrape.
    public func watchJobs(_ jobs: any JobStore) {
        let gauges = LabelledMetrics(gauges: .hostJobs, factory: registry.factory)
        registry.beforeScrape {
            guard let counts = try? await jobs.countByState() else { return }
            for state in RevokeJob.State.allCases { gauges(state.rawValue).record(counts[state] ?? 0) }
        }
    }

    public func request(route: String, status: Int) { requests(route, String(status)).increment() }

    /// `failedStep` nil: the enclave was verified.
    public func probe(failedStep: String?) { probes(failedStep ?? "verified").increment() }

    public func reverification(failedStep: String?) { reverifications(failedStep ?? "verified").increment() }

    public func jobAttempt(_ outcome: String) { jobAttempts(outcome).increment() }

    public func enclaveCall(_ operation: String, outcome: String, duration: Duration) {
        enclaveCalls(operation, outcome).recordNanoseconds(
            duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
        if outcome == EnclaveRPCError.notAuthenticatedCode { unauthenticated(operation).increment() }
    }
}

/// What runs, for `enclave_host_build_info`.
public enum HostBuild {
    public static let version = "0.6.0"
}
