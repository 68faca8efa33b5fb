// What the unit and the integration tests share: the local environment, free ports and
// directories, a clock moved by hand, signed headers, JSON helpers and the tests' ids.
import EnclaveConfiguration
import EnclaveCrypto
import Foundation
import Logging
import NIOPosix
import Synchronization

/// The repository's root, for fixtures and built products.
public let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// The local opt-in a dev-shim runtime needs (`SharedSettings.localOptIn`), plus a private state directory.
public func localEnvironment(_ extra: [String: String] = [:], stateDirectory: String = temporaryDirectory()) -> [String: String] {
    SharedSettings.localOptIn.merging(["ENCLAVE_RUNTIME_MODE": "dev-shim", "ENCLAVE_STATE_DIR": stateDirectory]) { $1 }
        .merging(extra) { $1 }
}

public func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "enclave-test-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A port nothing listens on right now (bound, read, released).
public func freePort() throws -> Int {
    let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).wait()
    let port = channel.localAddress!.port!
    try channel.close().wait()
    return port
}

/// A clock the tests move by hand.
public final class TestClock: Sendable {
    private let seconds: Mutex<Int64>
    public init(_ start: Int64 = 1_767_225_600) { seconds = Mutex(start) }
    public var now: Int64 { seconds.withLock { $0 } }
    public func advance(_ by: Int64) { seconds.withLock { $0 += by } }
    public var closure: @Sendable () -> Int64 { { self.now } }
}

/// Headers of a signed RPC request (docs/contract.md §2).
public func signedHeaders(
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

public func json(_ object: Any) -> [UInt8] {
    [UInt8](try! JSONSerialization.data(withJSONObject: object))
}

public func parseJSON(_ bytes: [UInt8]) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] ?? [:]
}

/// The error envelope's code, or nil.
public func errorCode(_ body: [String: Any]) -> String? {
    (body["error"] as? [String: Any])?["code"] as? String
}

public let testLogger: Logger = {
    var logger = Logger(label: "enclave-runtime-test")
    logger.logLevel = .critical
    return logger
}()

/// Two users of the tests.
public let userA = "6f1c1f2e-8f55-4d0e-9a53-1e5f0a9b7c11", userB = "1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d"

nonisolated(unsafe) public let ping: [String: Any] = ["contract_version": "v1", "request_id": "r-3"]

/// An exchange or revoke body.
public func connectorBody(user: String = userA, connector: String, requestID: String = "r-1") -> [String: Any] {
    ["contract_version": "v1", "request_id": requestID, "connector": ["user_id": user, "connector_id": connector]]
}

/// A file's permission bits.
public func fileMode(_ path: String) throws -> Int {
    guard let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int else {
        throw CocoaError(.fileReadUnknown)
    }
    return mode
}

/// The genuine AWS Nitro documents of Tests/Vectors/nitro/ and the PCRs of the beta one.
public enum NitroVectors {
    public static let betaPolicy = [
        "0=f4d48b81a460c9916d1e685119074bf24660afd3e34fae9fca0a0d28d9d5599936332687e6f66fc890ac8cf150142d8b",
        "1=bcdf05fefccaa8e55bf2c8d6dee9e79bbff31e34bf28a99aa19e6b29c37ee80b214a414b7607236edf26fcb78654e63f",
        "2=d8f114da658de5481f8d9ec73907feb553560787522f705c92d7d96beed8e15e2aa611984e098c576832c292e8dc469a",
        "8=8790eb3cce6c83d07e84b126dc61ca923333d6f66615c4a79157de48c5ab2418bdc60746ea7b7afbff03a1c6210201cb",
    ].joined(separator: ",")

    public static func bytes(_ file: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: repositoryRoot.appendingPathComponent("Tests/Vectors/nitro/\(file)")))
    }
}
