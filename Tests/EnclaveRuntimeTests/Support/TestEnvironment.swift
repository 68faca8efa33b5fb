import EnclaveConfiguration
import EnclaveCrypto
@testable import EnclaveRuntime
import Foundation
import Logging
import NIOPosix
import Synchronization
import Testing

/// The opt-in a local dev-shim runtime needs, plus a private state directory.
func localEnvironment(_ extra: [String: String] = [:], stateDirectory: String = temporaryDirectory()) -> [String: String] {
    [
        "ALFRED_ENV": "local", "ENCLAVE_RUNTIME_MODE": "dev-shim", "TEE_ATTESTATION_REQUIRED": "false",
        "TEE_ALLOW_INSECURE_DEV_ATTESTATION": "true", "ENCLAVE_STATE_DIR": stateDirectory,
    ].merging(extra) { $1 }
}

func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "enclave-test-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A port nothing listens on right now (bound, read, released).
func freePort() throws -> Int {
    let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).wait()
    let port = channel.localAddress!.port!
    try channel.close().wait()
    return port
}

/// A clock the route tests move by hand.
final class TestClock: Sendable {
    private let seconds: Mutex<Int64>
    init(_ start: Int64 = 1_767_225_600) { seconds = Mutex(start) }
    var now: Int64 { seconds.withLock { $0 } }
    func advance(_ by: Int64) { seconds.withLock { $0 += by } }
    var closure: @Sendable () -> Int64 { { self.now } }
}

/// Stores an active connector of user A whose refresh token `vault` sealed, as a register would.
func insertSealedConnector(_ connectorID: String, vault: TokenVault, into store: any ConnectorStore) async throws {
    let sealed = try vault.seal(refreshToken: "1//refresh-\(connectorID)", userID: userA, connectorID: connectorID)
    try await store.insert(ConnectorRecord(
        connectorID: connectorID, userID: userA, provider: "google", scopes: "s", status: .active, createdAt: 1, updatedAt: 1,
        keyID: vault.policy.keyID, keyVersion: vault.policy.keyVersion, sealedRefreshToken: Data(sealed)))
}

/// Headers of a signed RPC request (docs/contract.md §2).
func signedHeaders(
    path: String, body: [UInt8], secret: String = SharedSettings.localSharedSecret, timestamp: Int64,
    nonce: String = UUID().uuidString
) -> [(String, String)] {
    let ts = String(timestamp)
    let signature = try! RPCSigner(secret: secret).signature(path: path, timestamp: ts, nonce: nonce, body: body)
    return [
        ("content-type", "application/json"), ("x-alfred-rpc-version", "v1"), ("x-alfred-rpc-ts", ts),
        ("x-alfred-rpc-nonce", nonce), ("x-alfred-rpc-signature", signature),
    ]
}

func json(_ object: Any) -> [UInt8] {
    [UInt8](try! JSONSerialization.data(withJSONObject: object))
}

func parseJSON(_ bytes: [UInt8]) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] ?? [:]
}

/// The error envelope's code, or nil.
func errorCode(_ body: [String: Any]) -> String? {
    (body["error"] as? [String: Any])?["code"] as? String
}

let testLogger: Logger = {
    var logger = Logger(label: "enclave-runtime-test")
    logger.logLevel = .critical
    return logger
}()

extension Trait where Self == ConditionTrait {
    /// For suites that start real processes (runtime, hosts, servers): the fast tier
    /// (`scripts/test.sh --fast`, which sets ENCLAVE_FAST_TESTS) skips them.
    static var startsProcesses: Self {
        .enabled(if: ProcessInfo.processInfo.environment["ENCLAVE_FAST_TESTS"] == nil, "starts processes: not in the fast tier")
    }
}
