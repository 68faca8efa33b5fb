// The runtime's whole request path in process: router, authentication, JSON reader, handler,
// answer and access log line (to /dev/null), without sockets or HTTP parsing, so the runtime's own
// cost per request is seen without the load generator's noise. Requests through the same
// responder: the GET hello floor, the POST floor with a signed ping's exact headers and body
// (`echo-signed`), and the signed ping. ping - echo-signed is the runtime's own work. Then, request
// by request, what signing the answer adds (docs/contract.md §2a) against its floor, one keyed HMAC of
// the answer's bytes through the C core, both made in place; the signing step alone against that
// HMAC alone; and a runtime that records metrics against one that does not. Then an exchange
// answered from memory (docs/contract.md §7a) against a signed ping, on a runtime whose provider is
// a loopback server in this process (it answers the register and the one grant). Every runtime
// audits to /dev/null.
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
func makeRuntime(metrics: MetricsRegistry? = nil, provider: [String: String] = [:]) throws -> EnclaveRuntimeApplication {
    let state = FileManager.default.temporaryDirectory.appendingPathComponent("bench-rpc-path-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
    let configuration = try RuntimeConfiguration.load(EnvironmentSource(SharedSettings.localOptIn.merging([
        "ENCLAVE_STATE_DIR": state, "ENCLAVE_RPC_SHARED_SECRET": secret, "ENCLAVE_AUDIT_LOG": "/dev/null",
    ].merging(provider) { $1 }) { $1 }))
    return try EnclaveRuntimeApplication(
        configuration: configuration, logger: accessLogger, composition: FloorRoutes.composition(configuration, metrics: metrics))
}

/// Builds requests as `enclave-load` sends them (after HTTP/1 parsing): unique nonce, current time.
final class SignedRequests: @unchecked Sendable {
    let signer = try! RPCSigner(secret: secret)
    var sequence = 0
    let tag = "bench-\(getpid())"

    /// `fields`: more of the body after the request id (the connector of an exchange), JSON.
    func next(path: String, fields: String = "") -> Request {
        sequence += 1
        let body = Array(#"{"contract_version":"v1","request_id":"load-\#(sequence)"\#(fields)}"#.utf8)
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

/// The OAuth provider of the exchange benchmark: a Hummingbird server on loopback in this process
/// that grants every request (a register's code and the one refresh grant the cache makes).
enum LoopbackProvider {
    static func start() async throws -> Int {
        let router = Router()
        router.post("/token") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"access_token":"bench-access-token","expires_in":3599,"scope":"email","refresh_token":"bench-refresh-token","token_type":"Bearer"}"#)))
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let application = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) },
            logger: Logger(label: "bench-provider", factory: { _ in SwiftLogNoOpLogHandler() }))
        Task { try await application.runService() }
        for await port in ports { return port }
        throw CancellationError()
    }
}

/// Keeps a response body (the register's answer, for its connector id).
struct CollectingWriter: ResponseBodyWriter {
    final class Bytes: @unchecked Sendable { var value: [UInt8] = [] }
    let bytes: Bytes
    mutating func write(_ buffer: ByteBuffer) async throws { bytes.value += buffer.readableBytesView }
    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

/// The runtime of the exchange benchmark and the connector it registered, made by its setup.
final class ExchangeFixture: @unchecked Sendable {
    var runtime: EnclaveRuntimeApplication?
    var connectorFields = ""
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
    // An exchange answered from memory against a signed ping, on the runtime whose provider is
    // `LoopbackProvider`: its setup registers a connector and makes the one grant.
    let exchange = ExchangeFixture()
    let exchangePath = "/v1/rpc/google/token/exchange"
    @Sendable func prepareExchange() async throws {
        let port = try await LoopbackProvider.start()
        let runtime = try makeRuntime(provider: [
            "GOOGLE_OAUTH_CLIENT_ID": "bench-client", "GOOGLE_OAUTH_CLIENT_SECRET": "bench-client-secret",
            "GOOGLE_OAUTH_TOKEN_URL": "http://127.0.0.1:\(port)/token", "GOOGLE_OAUTH_REVOKE_URL": "http://127.0.0.1:\(port)/revoke",
        ])
        let user = "6f1c1f2e-8f55-4d0e-9a53-1e5f0a9b7c11"
        let register = try await runtime.application.responder.respond(
            to: requests.next(
                path: "/v1/rpc/google/connector/register",
                fields: #","user_id":"\#(user)","authorization_code":"bench-code","redirect_uri":"https://app.example/cb""#),
            context: EnclaveRequestContext(source: .init(channel: channel, logger: silent)))
        precondition(register.status == .ok, "register answered \(register.status.code)")
        let collected = CollectingWriter.Bytes()
        try await register.body.write(CollectingWriter(bytes: collected))
        let answer = try JSONSerialization.jsonObject(with: Data(collected.value)) as? [String: Any]
        let connector = (answer?["connector"] as? [String: Any])?["connector_id"] as? String ?? ""
        exchange.connectorFields = #","connector":{"user_id":"\#(user)","connector_id":"\#(connector)"}"#
        exchange.runtime = runtime
        // The one grant; every exchange measured after it is answered from memory.
        try await serve(requests.next(path: exchangePath, fields: exchange.connectorFields), by: runtime)
    }
    let perMilleOfPing = BenchmarkMetric.custom("cached exchange / signed ping (per mille)", useScalingFactor: false)
    Benchmark(
        "request path cached exchange against signed ping, interleaved", configuration: .init(metrics: [perMilleOfPing]),
        closure: { benchmark in
            let runtime = exchange.runtime!
            let clock = ContinuousClock()
            var times: [Duration] = [.zero, .zero]
            for _ in benchmark.scaledIterations {
                for side in [0, 1].shuffled() {
                    let request = side == 0 ? requests.next(path: exchangePath, fields: exchange.connectorFields) : requests.next(path: ping)
                    let started = clock.now
                    try await serve(request, by: runtime)
                    times[side] += clock.now - started
                }
            }
            benchmark.measurement(perMilleOfPing, Int((times[0] / times[1]) * 1000))
        },
        setup: { try await prepareExchange() })
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
