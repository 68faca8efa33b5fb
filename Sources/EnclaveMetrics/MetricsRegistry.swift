import CoreMetrics
import Foundation
import Prometheus
import Synchronization

/// The process's metrics: a Prometheus registry behind swift-metrics. Code records through
/// swift-metrics handles (`Counter`, `Timer`, `Gauge`) made with `factory`; `exposition()` is the
/// Prometheus text a scrape returns. Each family is registered with its help text from
/// `MetricFamily`, so every family is registered once, the same way.
public final class MetricsRegistry: Sendable {
    public let registry = PrometheusCollectorRegistry()
    public var factory: any MetricsFactory { CatalogFactory(registry: registry) }
    private let refreshers = Mutex<[@Sendable () async -> Void]>([])

    public init() {}

    /// `refresh` runs before each scrape: gauges read their value then (an O(1) read, or the job
    /// store's count by state).
    public func beforeScrape(_ refresh: @escaping @Sendable () async -> Void) {
        refreshers.withLock { $0.append(refresh) }
    }

    /// The Prometheus text exposition of every family.
    public func exposition() async -> [UInt8] {
        for refresh in refreshers.withLock({ $0 }) { await refresh() }
        return registry.emitToBuffer()
    }
}

/// swift-metrics' factory over the registry, with each family's help text and buckets.
struct CatalogFactory: MetricsFactory {
    let registry: PrometheusCollectorRegistry

    static let durationBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
        .seconds(30),
    ]

    static func family(_ label: String, _ kind: MetricFamily.Kind) -> MetricFamily {
        guard let family = MetricFamily(rawValue: label), family.kind == kind else {
            preconditionFailure("metric \(label) is not a \(kind) of MetricFamily")
        }
        return family
    }

    static func descriptor(_ family: MetricFamily) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: family.rawValue, unitName: "", helpText: family.help)
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: Self.descriptor(Self.family(label, .counter)), labels: dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: Self.descriptor(Self.family(label, .counter)), labels: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        registry.makeGauge(descriptor: Self.descriptor(Self.family(label, .gauge)), labels: dimensions)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: Self.descriptor(Self.family(label, .gauge)), labels: dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.makeDurationHistogram(
            descriptor: Self.descriptor(Self.family(label, .histogram)), labels: dimensions, buckets: Self.durationBuckets)
    }

    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyMeter(_ handler: any MeterHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}

/// Handles of one labelled family, made once per label values and kept: recording is a lookup
/// under a lock, then the handle's own atomic or locked update.
public final class LabelledMetrics<Handle: Sendable>: Sendable {
    private let handles = Mutex<[[String]: Handle]>([:])
    private let make: @Sendable ([(String, String)]) -> Handle
    private let labels: [String]

    public init(_ family: MetricFamily, factory: any MetricsFactory, make: @escaping @Sendable (String, [(String, String)], any MetricsFactory) -> Handle) {
        labels = family.labels
        let name = family.rawValue
        let factory = SendableFactory(factory)
        self.make = { dimensions in make(name, dimensions, factory.factory) }
    }

    /// The handle for these label values, in the family's label order.
    public func callAsFunction(_ values: String...) -> Handle {
        precondition(values.count == labels.count, "label values do not match the family")
        return handles.withLock { handles in
            if let handle = handles[values] { return handle }
            let handle = make(Array(zip(labels, values)))
            handles[values] = handle
            return handle
        }
    }
}

/// swift-metrics' factories are Sendable in practice (the protocol predates the checks).
public struct SendableFactory: @unchecked Sendable {
    public let factory: any MetricsFactory
    public init(_ factory: any MetricsFactory) { self.factory = factory }
}

extension LabelledMetrics where Handle == CoreMetrics.Counter {
    public convenience init(counters family: MetricFamily, factory: any MetricsFactory) {
        self.init(family, factory: factory) { CoreMetrics.Counter(label: $0, dimensions: $1, factory: $2) }
    }
}

extension LabelledMetrics where Handle == CoreMetrics.Timer {
    public convenience init(timers family: MetricFamily, factory: any MetricsFactory) {
        self.init(family, factory: factory) { CoreMetrics.Timer(label: $0, dimensions: $1, factory: $2) }
    }
}

extension LabelledMetrics where Handle == CoreMetrics.Gauge {
    public convenience init(gauges family: MetricFamily, factory: any MetricsFactory) {
        self.init(family, factory: factory) { CoreMetrics.Gauge(label: $0, dimensions: $1, factory: $2) }
    }
}
