import EnclaveConfiguration
import EnclaveCrypto
import EnclaveHTTP
import EnclaveMetrics
@testable import EnclaveRuntime
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Testing
import TestSupport

/// Every listener's limits (issue 31): an idle timeout, a deadline for the whole request however
/// its bytes trickle in, and a connection cap; the metrics listener's small enough that it can
/// never take what the RPC listener needs.
@Suite("Listener limits", .serialized)
struct ListenerLimitTests {
    /// The idle timeout and request deadline of the in-process listeners, and the gap between
    /// requests that must not trip them: far apart, so that a busy machine's scheduling delays
    /// cannot make the test pass or fail by chance.
    static let idle = 1.0
    static let deadline = 1.5
    static let gap = 0.15
    static let limits = ListenerLimits(
        maxConnections: 4, idleTimeout: .milliseconds(Int64(idle * 1000)), requestDeadline: .milliseconds(Int64(deadline * 1000)))

    /// The raw bytes of a signed POST of `body` to `path`.
    static func signedRequest(_ path: String, _ body: [UInt8], clock: TestClock) -> [UInt8] {
        var head = "POST \(path) HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: \(body.count)\r\n"
        for (name, value) in signedHeaders(path: path, body: body, timestamp: clock.now) { head += "\(name): \(value)\r\n" }
        return Array((head + "\r\n").utf8) + body
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    @Test("RPC listener: no request closes at the idle timeout, a stalled or trickling request at its deadline; one being answered is never cut")
    func idleTimeout() async throws {
        // A provider that accepts connections and never answers: an exchange waits out the provider timeout.
        let silentProvider = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let providerPort = try #require(silentProvider.localAddress?.port)
        let state = temporaryDirectory()
        let environment = localEnvironment([
            "GOOGLE_OAUTH_CLIENT_ID": "c", "GOOGLE_OAUTH_CLIENT_SECRET": "s",
            "GOOGLE_OAUTH_TOKEN_URL": "http://127.0.0.1:\(providerPort)/token", "GOOGLE_OAUTH_REVOKE_URL": "http://127.0.0.1:\(providerPort)/revoke",
            "ENCLAVE_PROVIDER_TIMEOUT_MS": "3000", "ENCLAVE_AUDIT_LOG": "/dev/null",
        ], stateDirectory: state)
        let configuration = try RuntimeConfiguration.load(EnvironmentSource(environment))
        let connectorID = UUID().uuidString.lowercased()
        let vault = TokenVault(
            sealer: try Sealer(key: try DataKey.resolve(configured: nil, stateDirectory: state)), policy: configuration.keyPolicy)
        try await insertSealedConnector(connectorID, vault: vault, into: SQLiteConnectorStore(directory: state))

        let clock = TestClock()
        let runtime = try EnclaveRuntimeApplication(
            configuration: configuration, logger: testLogger, limits: Self.limits, now: clock.closure)
        // Shut down however the test ends: an HTTP client dropped unclosed crashes the whole run
        // and hides what failed.
        var failure: (any Error)?
        do { try await idleTimeoutChecks(runtime, connectorID: connectorID, clock: clock) } catch { failure = error }
        try await runtime.shutdown()
        try await silentProvider.close()
        if let failure { throw failure }
    }

    private func idleTimeoutChecks(_ runtime: EnclaveRuntimeApplication, connectorID: String, clock: TestClock) async throws {
        try await runtime.application.test(.live) { client in
            let port = try #require(client.port)

            // Nothing sent: closed after the timeout, not before, with nothing written.
            try await RawConnection.with(port: port) { connection in
                let start = ContinuousClock.now
                let received = await connection.readUntilClosed()
                let elapsed = Self.seconds(since: start)
                #expect(received.isEmpty && elapsed >= Self.idle * 0.8 && elapsed < 5, "closed after \(elapsed) s")
            }

            // Half a request head, then silence; and a head trickled a byte at a time, which
            // reset the old per-read timer forever: both closed at the request deadline.
            try await RawConnection.with(port: port) { connection in
                try await connection.send(Array("POST /v1/rpc/ping HTTP/1.1\r\nhost: 127.0.0.1\r\nx-alfred-rpc-version: v1\r\n".utf8))
                let start = ContinuousClock.now
                _ = await connection.readUntilClosed()
                let elapsed = Self.seconds(since: start)
                #expect(elapsed >= Self.deadline * 0.8 && elapsed < 5, "closed after \(elapsed) s")
            }
            try await Self.expectTrickleCut(port: port)

            // The cap: four connections held, a fifth is closed before it is read; one freed, one more is served.
            try await Self.expectCap(port: port, request: Array("GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n".utf8))

            // Requests closer together than the timeout keep the connection; the timeout counts
            // from the last answer.
            try await RawConnection.with(port: port) { connection in
                for index in 0..<4 {
                    try await connection.send(Self.signedRequest("/v1/rpc/ping", json(["contract_version": "v1", "request_id": "p-\(index)"]), clock: clock))
                    let answer = await connection.readResponse()
                    #expect(answer?.hasPrefix("HTTP/1.1 200") == true, "ping \(index): \(answer ?? "closed")")
                    try await Task.sleep(for: .milliseconds(Int(Self.gap * 1000)))
                }
            }

            // An exchange waiting on the provider for three times the idle timeout is answered.
            try await RawConnection.with(port: port) { connection in
                let start = ContinuousClock.now
                try await connection.send(Self.signedRequest(
                    "/v1/rpc/google/token/exchange", json(connectorBody(connector: connectorID, requestID: "slow")), clock: clock))
                let answer = await connection.readResponse()
                let elapsed = Self.seconds(since: start)
                #expect(answer?.hasPrefix("HTTP/1.1 502") == true && answer?.contains("provider_unavailable") == true, "\(answer ?? "closed")")
                #expect(elapsed >= 2.9, "answered after \(elapsed) s")
                _ = await connection.readUntilClosed()  // then idle: closed like any other
            }
        }
    }

    /// A request head sent one byte every 0.2 s without end: closed at the request deadline,
    /// though a byte arrived a moment before.
    static func expectTrickleCut(port: Int, deadline: Double = deadline, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        try await RawConnection.with(port: port, limit: .seconds(Int64(deadline) + 8)) { connection in
            let start = ContinuousClock.now
            let head = Array("GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nx-trickle: ".utf8) + Array(repeating: UInt8(ascii: "a"), count: 200)
            for byte in head {
                do { try await connection.send([byte]) } catch { break }
                try await Task.sleep(for: .milliseconds(200))
                if seconds(since: start) > deadline + 4 { break }
            }
            _ = await connection.readUntilClosed()
            let elapsed = seconds(since: start)
            #expect(elapsed >= deadline * 0.8 && elapsed < deadline + 4, "closed after \(elapsed) s", sourceLocation: sourceLocation)
        }
    }

    /// `limits.maxConnections` idle connections held; one more is closed at once with nothing
    /// read; after one is let go, a new connection is answered.
    static func expectCap(port: Int, request: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        var held: [any Channel] = []
        for _ in 0..<limits.maxConnections {
            held.append(try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port).get())
        }
        try await Task.sleep(for: .milliseconds(200))
        try await RawConnection.with(port: port, limit: .seconds(3)) { connection in
            let start = ContinuousClock.now
            try? await connection.send(request)
            let received = await connection.readUntilClosed()
            #expect(received.isEmpty && seconds(since: start) < 0.8, "over the cap: closed at once, unanswered", sourceLocation: sourceLocation)
        }
        // The server may already have closed it at its idle timeout (1 s) on a loaded machine.
        try? await held.removeFirst().close()
        try await Task.sleep(for: .milliseconds(200))
        try await RawConnection.with(port: port) { connection in
            try await connection.send(request)
            #expect(await connection.readResponse()?.hasPrefix("HTTP/1.1 200") == true, sourceLocation: sourceLocation)
        }
        for channel in held { try? await channel.close() }
    }

    @Test("Metrics listener: idle and trickling connections are closed, and its cap holds")
    func metricsListener() async throws {
        let port = try freePort()
        let address: EnclaveConfiguration.BindAddress? = .init("127.0.0.1:\(port)")
        let listener = MetricsListener(bindAddress: try #require(address), metrics: MetricsRegistry(), logger: testLogger, limits: Self.limits)
        let running = Task { try await listener.run() }
        defer { running.cancel() }
        for _ in 0..<100 where (try? await httpCall(.GET, "http://127.0.0.1:\(port)/metrics", timeout: .seconds(1)))?.status != 200 {
            try await Task.sleep(for: .milliseconds(50))
        }
        try await RawConnection.with(port: port) { connection in
            let start = ContinuousClock.now
            #expect(await connection.readUntilClosed().isEmpty)
            let elapsed = Self.seconds(since: start)
            #expect(elapsed >= Self.idle * 0.8 && elapsed < 5, "closed after \(elapsed) s")
        }
        try await Self.expectTrickleCut(port: port)
        try await Self.expectCap(port: port, request: Array("GET /metrics HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n".utf8))
        #expect(ListenerLimits.metrics.maxConnections <= 8)
        #expect(ListenerLimits.serving(descriptorLimit: 256).maxConnections + ListenerLimits.metrics.maxConnections < 256 - 64)
    }

    @Test("A runtime limited to 256 descriptors keeps answering pings and healthz while 300 connections sit on its metrics port")
    func descriptorLimit() async throws {
        let (port, metricsPort) = (try freePort(), try freePort())
        let process = Process()
        let logPath = try launchLogged(process, product: "enclave-runtime", environment: localEnvironment([
            "ENCLAVE_RUNTIME_BIND_ADDR": "127.0.0.1:\(port)", "ENCLAVE_METRICS_BIND_ADDR": "127.0.0.1:\(metricsPort)",
        ]), wrapper: ["/usr/bin/prlimit", "--nofile=256:256", "--"])
        defer { killAndReap(process) }
        let base = "http://127.0.0.1:\(port)"
        for _ in 0..<200 where (try? await httpCall(.GET, base + "/healthz", timeout: .seconds(1)))?.status != 200 {
            try await Task.sleep(for: .milliseconds(50))
        }
        let group = MultiThreadedEventLoopGroup.singleton
        var idle: [any Channel] = []
        for _ in 0..<300 {
            if let channel = try? await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: metricsPort).get() { idle.append(channel) }
        }
        try await Task.sleep(for: .milliseconds(500))
        // Each check on a new connection (a pooled one would need no accept, so prove nothing).
        for index in 0..<20 {
            let healthz = try await RawConnection.with(port: port, limit: .seconds(3)) { connection in
                try await connection.send(Array("GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n".utf8))
                return await connection.readResponse()
            }
            #expect(healthz?.hasPrefix("HTTP/1.1 200") == true, "healthz \(index)")
            let body = json(["contract_version": "v1", "request_id": "fd-\(index)"])
            var head = "POST /v1/rpc/ping HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: \(body.count)\r\n"
            for (name, value) in signedHeaders(path: "/v1/rpc/ping", body: body, timestamp: Int64(Date().timeIntervalSince1970)) {
                head += "\(name): \(value)\r\n"
            }
            let ping = try await RawConnection.with(port: port, limit: .seconds(3)) { connection in
                try await connection.send(Array((head + "\r\n").utf8) + body)
                return await connection.readResponse()
            }
            #expect(ping?.hasPrefix("HTTP/1.1 200") == true, "ping \(index)")
        }
        // The listener is still there for a scraper once the crowd is gone.
        for channel in idle { try? await channel.close() }
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await httpCall(.GET, "http://127.0.0.1:\(metricsPort)/metrics").status == 200, "\((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")")
    }

    @Test("The api closes a request trickled a byte at a time at its 10 s deadline")
    func apiListener() async throws {
        let runtime = try await RuntimeProcess(environment: localEnvironment())
        let api = try HostProcess("api", environment: hostEnvironment(base: runtime.base))
        try await api.waitUntilReady()
        #expect(ListenerLimits.serving().requestDeadline == .seconds(10))
        try await Self.expectTrickleCut(port: api.apiPort, deadline: 10)
        #expect(try await httpCall(.GET, api.apiBase + "/healthz").status == 200)
    }
}
