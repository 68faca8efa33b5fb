// The runtime's whole request path in process: router, authentication, JSON reader, handler,
// answer and access log line (to /dev/null), without sockets or HTTP parsing, so the runtime's own
// cost per request is seen without the load generator's noise. Requests through the same
// responder: the GET hello floor, the POST floor with a signed ping's exact headers and body
// (`echo-signed`), and the signed ping. ping - echo-signed is the runtime's own work. Then, request
// by request, what signing the answer adds (docs/contract.md §2a) against its floor, one keyed HMAC of
// the answer's bytes through the C core, both made in place; the signing step alone against that
// HMAC alone; and a runtime that records metrics against one that does not. Every runtime audits
// to /dev/null.
import Benchmark
import EnclaveBenchmarkRoutes
import EnclaveConfiguration
import EnclaveCrypto
import EnclaveLogging
import EnclaveMetrics
import EnclaveRuntime
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOEmbedded

let secret = "bench-shared-secret-0123456789abcdef"

/// The runtime's JSON log handler, writing to /dev/null.
let accessLogger: Logger = {
    let devNull = open("/dev/null", O_WRONLY)
    return Logger(label: "enclave-runtime", factory: { JSONLogHandler(label: $0, level: .info, descriptor: devNull) })
}()

/// One runtime, as `enclave-runtime-bench` builds it, logging and auditing to /dev/null.
func makeRuntime(metrics: MetricsRegistry? = nil) throws -> EnclaveRuntimeApplication {
    let state = FileManager.default.temporaryDirectory.appendingPathComponent("bench-rpc-path-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
    let configuration = try RuntimeConfiguration.load(EnvironmentSource(SharedSettings.localOptIn.merging([
        "ENCLAVE_STATE_DIR": state, "ENCLAVE_RPC_SHARED_SECRET": secret, "ENCLAVE_AUDIT_LOG": "/dev/null",
    ]) { $1 }))
    return try EnclaveRuntimeApplication(
        configuration: configuration, logger: accessLogger, composition: FloorRoutes.composition(configuration, metrics: metrics))
}

/// Builds requests as `enclave-load` sends them (after HTTP/1 parsing): unique nonce, current time.
final class SignedRequests: @unchecked Sendable {
    let signer = try! RPCSigner(secret: secret)
    var sequence = 0
    let tag = "bench-\(getpid())"

    func next(path: String) -> Request {
        sequence += 1
        let body = Array(#"{"contract_version":"v1","request_id":"load-\#(sequence)"}"#.utf8)
        let timestamp = String(Int(Date().timeIntervalSince1970))
        let nonce = "\(tag)-\(sequence)"
        let signature = signer.signature(path: path, timestamp: timestamp, nonce: nonce, body: body)
        let fields: HTTPFields = [
            .contentType: "application/json", .contentLength: String(body.count),
            HTTPField.Name("x-alfred-rpc-version")!: "v1", HTTPField.Name("x-alfred-rpc-ts")!: timestamp,
            HTTPField.Name("x-alfred-rpc-nonce")!: nonce, HTTPField.Name("x-alfred-rpc-signature")!: signature,
        ]
        let head = HTTPRequest(method: .post, scheme: nil, authority: "127.0.0.1", path: path, headerFields: fields)
        return Request(head: head, body: .init(buffer: ByteBuffer(bytes: body)))
    }
}

/// Discards a response body after reading it, as the connection's writer would.
struct DiscardingWriter: ResponseBodyWriter {
    mutating func write(_ buffer: ByteBuffer) async throws { blackHole(buffer.readableBytes) }
    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal], timeUnits: .nanoseconds, warmupIterations: 2,
        // 1,000 requests per sample: the harness starts a task per sample, which would otherwise
        // dominate a request of a few microseconds.
        scalingFactor: .kilo, maxDuration: .seconds(3), maxIterations: 200)

    let runtime = try! makeRuntime()
    let measured = try! makeRuntime(metrics: MetricsRegistry())
    let channel = EmbeddedChannel()
    let silent = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
    let requests = SignedRequests()
    let hello = Request(
        head: HTTPRequest(method: .get, scheme: nil, authority: "127.0.0.1", path: FloorRoutes.helloPath),
        body: .init(buffer: ByteBuffer()))

    @Sendable func serve(_ request: Request, by runtime: EnclaveRuntimeApplication = runtime) async throws {
        let response = try await runtime.application.responder.respond(
            to: request, context: EnclaveRequestContext(source: .init(channel: channel, logger: silent)))
        // A non-200 answer would measure an error path instead: stop the run.
        precondition(response.status == .ok, "\(request.head.path ?? "") answered \(response.status.code)")
        try await response.body.write(DiscardingWriter())
    }

    Benchmark("request path hello floor (GET)") { benchmark in
        for _ in benchmark.scaledIterations { try await serve(hello) }
    }
    Benchmark("request path echo-signed floor (POST, signed headers)") { benchmark in
        for _ in benchmark.scaledIterations { try await serve(requests.next(path: FloorRoutes.echoPath)) }
    }
    Benchmark("request path signed ping") { benchmark in
        for _ in benchmark.scaledIterations { try await serve(requests.next(path: "/v1/rpc/ping")) }
    }
    // Comparisons of a few per cent or less, made request by request: each sample takes the sides
    // in turn, in a new random order every time (a rotating order gave each side the same
    // predecessor), and records ratios or differences of their total times, so the machine's
    // drift, larger than what is judged, touches every side alike.
    typealias Side = (runtime: EnclaveRuntimeApplication, path: String)
    @Sendable func interleaved(_ benchmark: Benchmark, _ sides: [Side], _ record: ([Duration], Int) -> Void) async throws {
        let clock = ContinuousClock()
        var times = [Duration](repeating: .zero, count: sides.count), count = 0
        var order = Array(sides.indices)
        for _ in benchmark.scaledIterations {
            order.shuffle()
            for side in order {
                let started = clock.now
                try await serve(requests.next(path: sides[side].path), by: sides[side].runtime)
                times[side] += clock.now - started
            }
            count += 1
        }
        record(times, count)
    }
    let ping = "/v1/rpc/ping"
    let perMille = BenchmarkMetric.custom("metrics on / off (per mille)", useScalingFactor: false)
    Benchmark("request path signed ping, metrics on against off, interleaved", configuration: .init(metrics: [perMille])) { benchmark in
        try await interleaved(benchmark, [(measured, ping), (runtime, ping)]) { times, _ in
            benchmark.measurement(perMille, Int((times[0] / times[1]) * 1000))
        }
    }
    // What signing the answer adds, and its floor made where signing happens (one keyed HMAC of the
    // answer through the C core instead of the signature), on one runtime, so all three meet the
    // same state. Longer than the others, as each difference is 1 to 3 % of a ping. Beside it, the
    // method's resolution: the signed ping against itself. The harness drops negative values,
    // which biased these medians up by a microsecond when half the samples were near zero, so
    // differences are recorded plus 5 µs (scripts/bench_summary.py subtracts it).
    let signedMinusUnsigned = BenchmarkMetric.custom("signed - unsigned + 5000 (ns per request)", useScalingFactor: false)
    let floorMinusUnsigned = BenchmarkMetric.custom("HMAC floor - unsigned + 5000 (ns per request)", useScalingFactor: false)
    let againstItself = BenchmarkMetric.custom("signed - signed + 5000 (ns per request)", useScalingFactor: false)
    @Sendable func long(_ metrics: [BenchmarkMetric]) -> Benchmark.Configuration {
        .init(metrics: metrics, timeUnits: .nanoseconds, warmupIterations: 2, scalingFactor: .kilo, maxDuration: .seconds(15), maxIterations: 1000)
    }
    @Sendable func difference(_ a: Duration, _ b: Duration, _ count: Int) -> Int { 5_000 + Int(((a - b) / count) / .nanoseconds(1)) }
    Benchmark("request path signed ping: signed, unsigned and HMAC floor, interleaved", configuration: long([signedMinusUnsigned, floorMinusUnsigned])) {
        benchmark in
        let sides: [Side] = [(runtime, ping), (runtime, FloorRoutes.unsignedPingPath), (runtime, FloorRoutes.floorPingPath)]
        try await interleaved(benchmark, sides) { times, count in
            benchmark.measurement(signedMinusUnsigned, difference(times[0], times[1], count))
            benchmark.measurement(floorMinusUnsigned, difference(times[2], times[1], count))
        }
    }
    Benchmark("request path signed ping against itself, interleaved", configuration: long([againstItself])) { benchmark in
        try await interleaved(benchmark, [(runtime, ping), (runtime, ping)]) { times, count in
            benchmark.measurement(againstItself, difference(times[0], times[1], count))
        }
    }
    // The floor of the answer's signature: one keyed HMAC of a ping answer's bytes (about 300).
    let answer = Array(#"{"contract_version":"v1","request_id":"load-123456","attested_identity":{"runtime":"nitro","measurement":"dev-local-enclave"},"binding":"\#(String(repeating: "A", count: 86))=="}"#.utf8)
    let key = Array(secret.utf8)
    // The step itself as the pipeline takes it, free of the whole ping's noise: the verifier's
    // response signature over the answer and its header field; in pairs with that floor.
    let verifier = try! RPCVerifier(secret: key)
    let requestSignature = String(repeating: "ab", count: 32)
    let signatureHeader = HTTPField.Name("x-alfred-rpc-response-signature")!
    for pair in 1...5 {
        Benchmark("response signature floor: one keyed HMAC of the answer (C core) (\(pair))") { benchmark in
            for _ in benchmark.scaledIterations { blackHole(try HMACSHA256.mac(key: key, message: answer)) }
        }
        Benchmark("answer signature as the pipeline makes it (verifier, header) (\(pair))") { benchmark in
            for _ in benchmark.scaledIterations {
                let signature = try verifier.responseSignature(
                    verifiedBy: .current, requestSignature: requestSignature, status: 200, body: answer.span.bytes)
                blackHole(HTTPField(name: signatureHeader, value: signature))
            }
        }
    }
    // Part of every request above: a signed ping's access line, as the router writes it.
    Benchmark("access log line of a signed ping") { benchmark in
        for sequence in benchmark.scaledIterations {
            accessLogger.info("request", metadata: [
                "path": "/v1/rpc/ping", "method": "POST", "status": .stringConvertible(200),
                "duration_ms": .stringConvertible(0.052), "request_id": .string("load-\(sequence)"),
            ])
        }
    }
    // Also part of every signed RPC: its audit event, written to /dev/null.
    let audit = try! AuditTrail(path: "/dev/null", process: "enclave-runtime")
    Benchmark("audit event of a signed ping") { benchmark in
        for sequence in benchmark.scaledIterations {
            blackHole(audit.record(AuditEvent(route: "/v1/rpc/ping", outcome: AuditEvent.allowed, requestID: "load-\(sequence)", duration: .microseconds(52))))
        }
    }
}
