import AsyncHTTPClient
import EnclaveConfiguration
import Foundation
import NIOCore
import NIOHTTP1
import TestSupport

/// Where the built executables are: beside the test bundle (swift test) or in .build/debug.
func builtProduct(_ name: String) -> String {
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name).path
    if FileManager.default.isExecutableFile(atPath: beside) { return beside }
    return repositoryRoot.appendingPathComponent(".build/debug/\(name)").path
}

struct HTTPResult {
    var status: Int
    var body: [UInt8]
    var json: [String: Any] { parseJSON(body) }
}

func httpCall(
    _ method: HTTPMethod, _ url: String, headers: [(String, String)] = [], body: [UInt8]? = nil, timeout: TimeAmount = .seconds(30),
    client: HTTPClient = .shared
) async throws -> HTTPResult {
    var request = HTTPClientRequest(url: url)
    request.method = method
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
    let response = try await client.execute(request, timeout: timeout)
    let bytes = try await response.body.collect(upTo: 1 << 20)
    return HTTPResult(status: Int(response.status.code), body: Array(bytes.readableBytesView))
}

/// The OAuth provider stand-in (Tests/Fixtures/oauth_provider.py) as a real process on loopback.
final class ProviderProcess: @unchecked Sendable {
    let server: PythonServer
    var port: Int { server.port }
    static let clientID = "test-client-id.apps.example"
    static let clientSecret = "test-client-secret-\(UUID().uuidString)"

    let tls: TestTLS?
    /// The test's client for the control endpoints (over HTTPS with `tls`).
    var client: HTTPClient { tls == nil ? .shared : TestTLS.controlClient }

    /// `tls`: serve HTTPS with its certificate (the egress tests).
    init(tls: TestTLS? = nil) throws {
        self.tls = tls
        server = try PythonServer(script: "oauth_provider.py", arguments: [Self.clientID, Self.clientSecret], environment: tls?.fixtureEnvironment ?? [:])
    }

    var base: String { "\(tls == nil ? "http" : "https")://127.0.0.1:\(port)" }

    func environment() -> [String: String] {
        [
            "GOOGLE_OAUTH_CLIENT_ID": Self.clientID, "GOOGLE_OAUTH_CLIENT_SECRET": Self.clientSecret,
            "GOOGLE_OAUTH_TOKEN_URL": "\(base)/token", "GOOGLE_OAUTH_REVOKE_URL": "\(base)/revoke",
        ]
    }

    func issueCode(user: String, redirectURI: String, codeChallenge: String? = nil) async throws -> String {
        var form = "user=\(user)&redirect_uri=\(redirectURI.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)"
        if let codeChallenge { form += "&code_challenge=\(codeChallenge)" }
        let result = try await httpCall(
            .POST, "\(base)/__code", headers: [("content-type", "application/x-www-form-urlencoded")], body: Array(form.utf8), client: client)
        return result.json["code"] as! String
    }

    func setFault(_ mode: String) async throws {
        _ = try await httpCall(
            .POST, "\(base)/__fault", headers: [("content-type", "application/x-www-form-urlencoded")], body: Array("mode=\(mode)".utf8), client: client)
    }

    /// Every /token call waits `delayMilliseconds` first; access tokens issued from now on live `expiresIn` seconds.
    func configure(delayMilliseconds: Int? = nil, expiresIn: Int? = nil) async throws {
        let form = [delayMilliseconds.map { "delay_ms=\($0)" }, expiresIn.map { "expires_in=\($0)" }].compactMap { $0 }.joined(separator: "&")
        _ = try await httpCall(
            .POST, "\(base)/__settings", headers: [("content-type", "application/x-www-form-urlencoded")], body: Array(form.utf8), client: client)
    }

    func stats() async throws -> [String: Any] { try await httpCall(.GET, "\(base)/__stats", client: client).json }

    /// Refresh-token grants answered so far, all refresh tokens together.
    func refreshGrants() async throws -> Int {
        (try await stats()["refresh_grants"] as? [String: Int] ?? [:]).values.reduce(0, +)
    }
}

/// A Python server of Tests/Fixtures/ on loopback that prints "PORT n" first and exits when its stdin
/// (this object's lifeline pipe) closes.
final class PythonServer: @unchecked Sendable {
    let process = Process()
    let port: Int
    let lines: [String]
    private let lifeline = Pipe()

    /// `interpreter`: the venv's python for a stand-in that needs PyPI packages (botocore).
    init(script: String, arguments: [String], environment: [String: String] = [:], interpreter: String = "/usr/bin/python3") throws {
        process.executableURL = URL(fileURLWithPath: interpreter)
        process.arguments = [repositoryRoot.appendingPathComponent("Tests/Fixtures/\(script)").path] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        process.standardInput = lifeline
        try process.run()
        let text = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        lines = text.split(separator: "\n").map(String.init)
        guard let port = lines.first?.split(separator: " ").last.flatMap({ Int($0) }) else {
            killAndReap(process)
            throw HarnessError("\(script) did not report its port")
        }
        self.port = port
    }

    var base: String { "http://127.0.0.1:\(port)" }

    deinit { killAndReap(process) }
}

/// A host service (`api` or `worker`) as a real process, its output captured to a file.
final class HostProcess: @unchecked Sendable {
    let process = Process()
    let logPath: String
    let apiPort: Int

    init(_ role: String, environment extra: [String: String]) throws {
        apiPort = try freePort()
        logPath = try launchLogged(process, product: role, environment: ["API_BIND_ADDR": "127.0.0.1:\(apiPort)"].merging(extra) { $1 })
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
    var apiBase: String { "http://127.0.0.1:\(apiPort)" }

    /// Waits until the log says the enclave was verified (and, for the api, it answers).
    func waitUntilReady(timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if !process.isRunning { throw HarnessError("host exited early: \(log)") }
            if log.contains("enclave verified") {
                if log.contains("\"logger\":\"worker\"") { return }
                if let health = try? await httpCall(.GET, apiBase + "/healthz", timeout: .seconds(1)), health.status == 200 { return }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessError("host did not become ready: \(log)")
    }

    func waitForExit(timeout: Duration = .seconds(30)) async throws -> Int32 {
        try await IntegrationTests.waitForExit(process, timeout: timeout)
    }

    /// The api's bearer token of the test environment, for a JSON body.
    static let auth = [("authorization", "Bearer local-dev-api-token"), ("content-type", "application/json")]

    /// Registers a Google connector for `user` through the api, with `code` or a fresh one from `provider`.
    func registerConnector(_ provider: ProviderProcess, user: String = userA, code: String? = nil) async throws -> HTTPResult {
        let code = if let code { code } else { try await provider.issueCode(user: user, redirectURI: LiveRuntimeTests.redirect) }
        return try await httpCall(.POST, apiBase + "/v1/connectors/google", headers: Self.auth, body: json([
            "user_id": user, "authorization_code": code, "redirect_uri": LiveRuntimeTests.redirect,
        ]))
    }

    deinit { killAndReap(process) }
}

/// The real `enclave-runtime` executable on a free loopback port, its log captured to a file.
final class RuntimeProcess: @unchecked Sendable {
    let process = Process()
    let port: Int
    let logPath: String
    let environment: [String: String]

    init(environment extra: [String: String], port: Int? = nil) async throws {
        self.port = try port ?? freePort()
        environment = extra.merging(["ENCLAVE_RUNTIME_BIND_ADDR": "127.0.0.1:\(self.port)"]) { $1 }
        logPath = try launchLogged(process, product: "enclave-runtime", environment: environment)
        try await waitUntilHealthy()
    }

    /// https with ENCLAVE_RUNTIME_TLS=attested (the harness itself verifies nothing; hosts do).
    var base: String { "\(attested ? "https" : "http")://127.0.0.1:\(port)" }
    var attested: Bool { environment["ENCLAVE_RUNTIME_TLS"] == "attested" }
    var client: HTTPClient { attested ? TestTLS.controlClient : .shared }

    func waitUntilHealthy() async throws {
        for _ in 0..<200 {
            if !process.isRunning { throw HarnessError("enclave-runtime exited with \(process.terminationStatus): \(log)") }
            if let result = try? await httpCall(.GET, "\(base)/healthz", timeout: .seconds(1), client: client), result.status == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessError("enclave-runtime did not become healthy")
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for the process to exit and returns its status.
    func waitForExit(timeout: Duration = .seconds(15)) async throws -> Int32 {
        try await IntegrationTests.waitForExit(process, timeout: timeout)
    }

    /// The secret this runtime was started with (the local default when none was set).
    var secret: String { environment["ENCLAVE_RPC_SHARED_SECRET"] ?? SharedSettings.localSharedSecret }

    func rpc(_ path: String, _ body: [String: Any], secret: String? = nil) async throws -> HTTPResult {
        let secret = secret ?? self.secret
        let bytes = json(body)
        let headers = signedHeaders(path: path, body: bytes, secret: secret, timestamp: Int64(Date().timeIntervalSince1970))
        return try await httpCall(.POST, base + path, headers: headers, body: bytes)
    }

    deinit { killAndReap(process) }
}

/// Starts a built product with only `environment`'s project keys (none inherited from the test
/// runner), in an empty working directory of its own (so no .env is read), its stdout and stderr
/// captured to a fresh log file whose path is returned.
/// `wrapper`: a command that runs the product (its path is added last), e.g. prlimit.
func launchLogged(_ process: Process, product: String, environment: [String: String], wrapper: [String] = []) throws -> String {
    let projectPrefixes = ["ENCLAVE_", "TEE_", "GOOGLE_", "API_", "HOST_", "WORKER_", "ALFRED_"]
    let inherited = ProcessInfo.processInfo.environment.filter { key, _ in !projectPrefixes.contains { key.hasPrefix($0) } }
    let logPath = temporaryDirectory() + "/\(product).log"
    try Data().write(to: URL(fileURLWithPath: logPath))
    if let command = wrapper.first {
        process.executableURL = URL(fileURLWithPath: command)
        process.arguments = Array(wrapper.dropFirst()) + [builtProduct(product)]
    } else {
        process.executableURL = URL(fileURLWithPath: builtProduct(product))
    }
    process.environment = inherited.merging(environment) { $1 }
    process.currentDirectoryURL = URL(fileURLWithPath: temporaryDirectory())
    let log = FileHandle(forWritingAtPath: logPath)!
    process.standardOutput = log
    process.standardError = log
    try process.run()
    return logPath
}

/// Waits for a child to exit and returns its exit status (128 + signal when killed). Reaps with
/// waitpid itself: Foundation's Process does not always notice a child's exit on Linux.
func waitForExit(_ process: Process, timeout: Duration = .seconds(15)) async throws -> Int32 {
    let deadline = ContinuousClock.now + timeout
    let pid = process.processIdentifier
    while true {
        var status: Int32 = 0
        let reaped = waitpid(pid, &status, WNOHANG)
        if reaped == pid {
            let signal = status & 0x7f
            return signal == 0 ? (status >> 8) & 0xff : 128 + signal
        }
        if reaped == -1 && !process.isRunning { return process.terminationStatus }  // Foundation reaped it first
        if ContinuousClock.now > deadline { throw HarnessError("process \(pid) did not exit in time") }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// Kills a child for good and reaps it (Foundation's terminate() is a no-op once it lost track).
func killAndReap(_ process: Process) {
    let pid = process.processIdentifier
    guard pid > 0 else { return }
    kill(pid, SIGKILL)
    var status: Int32 = 0
    _ = waitpid(pid, &status, 0)
}

/// The soft and hard core file size limits of a running process, as /proc shows them.
func coreFileLimits(_ process: Process) -> [String] {
    let limits = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/limits", encoding: .utf8)) ?? ""
    guard let line = limits.split(separator: "\n").first(where: { $0.hasPrefix("Max core file size") }) else { return [] }
    return line.split(separator: " ", omittingEmptySubsequences: true).dropFirst(4).prefix(2).map(String.init)
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
