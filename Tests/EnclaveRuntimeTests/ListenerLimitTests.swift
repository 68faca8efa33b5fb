import EnclaveConfiguration
import EnclaveCrypto
@testable import EnclaveRuntime
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOPosix
import Testing

@Suite("Idle connections")
struct IdleConnectionTests {
    /// The idle timeout, and the gap between requests that must not trip it: far apart, so that a
    /// busy machine's scheduling delays cannot make the test pass or fail by chance.
    static let idle = 1.0
    static let gap = 0.15

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

    @Test("A connection with no request, or stalled partway through one, is closed after the idle timeout; one waiting for its answer is not")
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
            configuration: configuration, logger: testLogger, idleTimeout: .milliseconds(Int64(Self.idle * 1000)), now: clock.closure)
        try await runtime.application.test(.live) { client in
            let port = try #require(client.port)

            // Nothing sent: closed after the timeout, not before, with nothing written.
            try await RawConnection.with(port: port) { connection in
                let start = ContinuousClock.now
                let received = await connection.readUntilClosed()
                let elapsed = Self.seconds(since: start)
                #expect(received.isEmpty && elapsed >= Self.idle * 0.8 && elapsed < 5, "closed after \(elapsed) s")
            }

            // Half a request head, then silence.
            try await RawConnection.with(port: port) { connection in
                try await connection.send(Array("POST /v1/rpc/ping HTTP/1.1\r\nhost: 127.0.0.1\r\nx-alfred-rpc-version: v1\r\n".utf8))
                let start = ContinuousClock.now
                _ = await connection.readUntilClosed()
                let elapsed = Self.seconds(since: start)
                #expect(elapsed >= Self.idle * 0.8 && elapsed < 5, "closed after \(elapsed) s")
            }

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
        try await runtime.shutdown()
        try await silentProvider.close()
    }
}
