import AsyncHTTPClient
import Foundation
import NIOSSL
import TestSupport

/// A throwaway CA and a server certificate it issued for 127.0.0.1, made with the openssl command,
/// for stand-ins that serve HTTPS (Tests/Fixtures/fixture_server.py's FIXTURE_TLS_*).
struct TestTLS: Sendable {
    let directory: String
    var caPEM: String { directory + "/ca.pem" }
    var certificate: String { directory + "/server.pem" }
    var key: String { directory + "/server.key" }

    var fixtureEnvironment: [String: String] { ["FIXTURE_TLS_CERT": certificate, "FIXTURE_TLS_KEY": key] }

    static func make() throws -> TestTLS {
        let tls = TestTLS(directory: temporaryDirectory())
        let script = """
            set -e
            cd '\(tls.directory)'
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -subj /CN=egress-test-ca \
              -days 1 -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
            openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1 2>/dev/null
            printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nbasicConstraints=CA:FALSE\\nextendedKeyUsage=serverAuth\\n' > ext
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 1 -extfile ext 2>/dev/null
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw HarnessError("openssl could not make the test CA") }
        return tls
    }

    /// The test's own client for the stand-ins' control endpoints over HTTPS. It does not verify:
    /// it is the test talking to its own fixture; the runtime's verification is what is tested.
    static let controlClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        // Attested runtimes sign with Ed25519, which BoringSSL's clients do not offer by default.
        tls.verifySignatureAlgorithms = [.ed25519, .ecdsaSecp256R1Sha256, .ecdsaSecp384R1Sha384, .rsaPssRsaeSha256, .rsaPkcs1Sha256]
        configuration.tlsConfiguration = tls
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()
}

/// Debian's tinyproxy, a real HTTP CONNECT proxy, on a free loopback port with a private
/// configuration; it ends with this object.
final class TinyProxy: @unchecked Sendable {
    let process = Process()
    let port: Int
    let logPath: String

    init() async throws {
        port = try freePort()
        let directory = temporaryDirectory()
        let configuration = directory + "/tinyproxy.conf"
        // No ConnectPort line: CONNECT to any port (the stand-ins listen on free ports).
        try Data("""
            Port \(port)
            Listen 127.0.0.1
            Timeout 60
            MaxClients 100
            Allow 127.0.0.1
            DisableViaHeader Yes
            LogLevel Connect

            """.utf8).write(to: URL(fileURLWithPath: configuration))
        logPath = directory + "/tinyproxy.log"
        try Data().write(to: URL(fileURLWithPath: logPath))
        process.executableURL = URL(fileURLWithPath: "/usr/bin/tinyproxy")
        process.arguments = ["-d", "-c", configuration]
        let log = FileHandle(forWritingAtPath: logPath)!
        process.standardOutput = log
        process.standardError = log
        try process.run()
        for _ in 0..<100 {
            if (try? await httpCall(.GET, "http://127.0.0.1:\(port)/", timeout: .seconds(1))) != nil { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessError("tinyproxy did not start: \((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")")
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    deinit { killAndReap(process) }
}

/// Tests/Fixtures/tls_relay.py in front of `upstreams` (round robin): every byte both ways
/// recorded (what the parent instance, or a network path, sees); switched to terminating TLS with
/// its own key by `setMode("terminate")`.
final class RecordingRelay: @unchecked Sendable {
    let server: PythonServer
    let recordPath = temporaryDirectory() + "/relay.bytes"
    var port: Int { server.port }
    var control: Int { Int(server.lines.first { $0.hasPrefix("CONTROL ") }!.dropFirst(8))! }

    convenience init(targetPort: Int) throws { try self.init(upstreams: [targetPort]) }

    init(upstreams: [Int]) throws {
        try Data().write(to: URL(fileURLWithPath: recordPath))
        server = try PythonServer(
            script: "tls_relay.py", arguments: [recordPath] + upstreams.map(String.init), environment: bindingEnvironment)
    }

    var recorded: [UInt8] { [UInt8]((try? Data(contentsOf: URL(fileURLWithPath: recordPath))) ?? Data()) }

    func setMode(_ mode: String) async throws { _ = try await httpCall(.POST, "http://127.0.0.1:\(control)/", body: Array(mode.utf8)) }
    func stats() async throws -> [String: Any] { try await httpCall(.GET, "http://127.0.0.1:\(control)/").json }
}
