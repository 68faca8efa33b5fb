// enclave-load: a closed-loop load generator for the enclave runtime on SwiftNIO. Each of C
// connections keeps one request in flight for the duration; signed requests carry the current
// time and a unique nonce, signed with the C core. Prints requests per second over the measured
// window (after the warm-up), p50/p90/p99/max latency, and every answer that was not 200.
// Exit status 0 only when every answer was 200 and no request was dropped.
//
//   enclave-load [-c CONNECTIONS] [-d SECONDS] [-w WARMUP] [--json] [--stop-on-refused]
//                hello|echo|echo-signed|healthz|document|challenge|ping|exchange [USER_ID CONNECTOR_ID]
//
// ENCLAVE_RUNTIME_BASE_URL (http://HOST:PORT, else http://127.0.0.1:8181; several, comma-separated,
// spread the connections over a fleet's replicas in turn) and
// ENCLAVE_RPC_SHARED_SECRET (else the local default). --stop-on-refused ends a connection once
// the server stops accepting, which is how the graceful-shutdown check runs it.
import Foundation
import NIOCore
import NIOPosix

func usage() -> Never {
    FileHandle.standardError.write(Data("""
        usage: enclave-load [-c CONNECTIONS] [-d SECONDS] [-w WARMUP] [--json] [--stop-on-refused]
                            hello|echo|echo-signed|healthz|document|challenge|ping|exchange [USER_ID CONNECTOR_ID]

        """.utf8))
    exit(2)
}

var connections = 64, duration = 10.0, warmup = 1.0, json = false, stopOnRefused = false
var positional: [String] = []
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "-c": connections = Int(arguments.popFirst() ?? "") ?? 0
    case "-d": duration = Double(arguments.popFirst() ?? "") ?? 0
    case "-w": warmup = Double(arguments.popFirst() ?? "") ?? -1
    case "--json": json = true
    case "--stop-on-refused": stopOnRefused = true
    default: positional.append(argument)
    }
}
guard (1...4096).contains(connections), duration > 0, warmup >= 0,
    let endpoint = positional.first.flatMap(LoadEndpoint.init(rawValue:))
else { usage() }
guard positional.count == (endpoint == .exchange ? 3 : 1) else { usage() }

let environment = ProcessInfo.processInfo.environment
let bases = (environment["ENCLAVE_RUNTIME_BASE_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "http://127.0.0.1:8181")
    .split(separator: ",").map(String.init)
let targets = bases.compactMap { base -> (host: String, port: Int)? in
    guard let url = URL(string: base), url.scheme == "http", let host = url.host, let port = url.port else { return nil }
    return (host, port)
}
guard !targets.isEmpty, targets.count == bases.count else {
    FileHandle.standardError.write(Data("enclave-load: ENCLAVE_RUNTIME_BASE_URL must be http://HOST:PORT[,http://HOST:PORT...]\n".utf8))
    exit(2)
}
let (host, port) = targets[0]
let secret = environment["ENCLAVE_RPC_SHARED_SECRET"].flatMap { $0.isEmpty ? nil : $0 } ?? "local-dev-enclave-rpc-secret"

let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let loop = group.next()
let run = try LoadRun(
    loop: loop, addresses: try targets.map { try SocketAddress.makeAddressResolvingHost($0.host, port: $0.port) },
    requests: LoadRequests(endpoint: endpoint, host: "\(host):\(port)", secret: secret,
        connector: endpoint == .exchange ? (positional[1], positional[2]) : nil),
    warmup: .nanoseconds(Int64(warmup * 1e9)), duration: .nanoseconds(Int64(duration * 1e9)), stopOnRefused: stopOnRefused)
let startConnections = connections
loop.execute { run.start(connections: startConnections) }
try run.finished.futureResult.wait()

let (measuredConnections, measuredSeconds) = (connections, duration)
let report = try loop.submit {
    LoadReport(run: run, connections: measuredConnections, endpoint: endpoint.rawValue, seconds: measuredSeconds)
}.wait()
print(json ? report.json : report.text)
try group.syncShutdownGracefully()
exit(report.passed ? 0 : 1)
