import EnclaveFuzzing
import Foundation
import Testing
import TestSupport

/// Replays fuzz/FailCases/ and the request-path seed corpus through the fuzzer's own harness and
/// oracle, so a fixed finding stays fixed without running libFuzzer.
@Suite(.serialized) struct FuzzReplayTests {
    /// One harness for the process: it owns a runtime (with its HTTP client) for good, as in the fuzzer.
    static let harness = try! RequestPathFuzzing()

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func inputs(_ folder: String) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: root.appendingPathComponent(folder), includingPropertiesForKeys: nil)
            .filter { $0.lastPathComponent != "README.md" }.sorted { $0.path < $1.path }
    }

    @Test func failCasesAndSeedsHoldEveryProperty() async throws {
        let harness = Self.harness
        let files = try Self.inputs("fuzz/FailCases") + Self.inputs("fuzz/corpus/fuzz-request-path")
        #expect(files.count >= 10)
        for file in files {
            let violation = await harness.check(Array(try Data(contentsOf: file)))
            #expect(violation == nil, "\(file.lastPathComponent): \(violation ?? "")")
        }
    }

    @Test func theOracleRejectsWhatItShould() async throws {
        // A check that cannot fail proves nothing: feed the oracle answers that break each rule.
        let harness = Self.harness
        #expect(await harness.check([0x08] + Array("v1\0\0n-oracle\0\0".utf8) + Array(#"{"contract_version":"v1","request_id":"r"}"#.utf8)) == nil)
        #expect(RequestPathFuzzing.oracle(path: "/v1/rpc/ping", status: 500, body: Array(#"{}"#.utf8)) != nil)
        #expect(RequestPathFuzzing.oracle(path: "/v1/rpc/ping", status: 401, body: Array(#"{"error":{"code":"not_found"}}"#.utf8)) != nil)
        #expect(RequestPathFuzzing.oracle(path: "/healthz", status: 200, body: Array("not json".utf8)) != nil)
        // A connector RPC past step 7 (here: no provider configured) with an id that is no UUID.
        let exchange = "/v1/rpc/google/token/exchange"
        let notConfigured = Array(#"{"contract_version":"v1","request_id":"r","error":{"code":"provider_not_configured","message":"m","retryable":false}}"#.utf8)
        func connectorBody(user: String) -> [UInt8] {
            Array(#"{"contract_version":"v1","request_id":"r","connector":{"user_id":"\#(user)","connector_id":"6f1c1f2e-8f55-4d0e-9a53-1e5f0a9b7c11"}}"#.utf8)
        }
        #expect(RequestPathFuzzing.oracle(path: exchange, status: 503, body: notConfigured, request: connectorBody(user: "6F1C1F2E-8f55-4d0e-9a53-1e5f0a9b7c11")) == nil)
        #expect(RequestPathFuzzing.oracle(path: exchange, status: 503, body: notConfigured, request: connectorBody(user: " f1c1f2e-8f55-4d0e-9a53-1e5f0a9b7c11")) != nil)
        #expect(RequestPathFuzzing.oracle(path: exchange, status: 503, body: notConfigured, request: connectorBody(user: "6f1c1f2e-8f55-4d0e-0x53-1e5f0a9b7c11")) != nil)
    }
}
