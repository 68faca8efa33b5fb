import AsyncHTTPClient
import Foundation
import TestSupport

/// Tests/Fixtures/kms_standin.py as a real process (KMS's JSON 1.1 protocol with SigV4 checked by
/// botocore, a PCR0 key policy over documents under `simulator`'s root, IMDSv2 beside it), and the
/// real AWS CLI pointed at it, as an operator makes ciphertexts.
final class KMSStandIn: @unchecked Sendable {
    static let keyARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    static let accessKeyID = "AKIDEXAMPLE"
    static let secretAccessKey = "kms-standin-secret-\(UUID().uuidString)"
    static var venv: String { repositoryRoot.appendingPathComponent("build/venv/bin").path }

    let server: PythonServer
    let tls: TestTLS?
    var base: String { "\(tls == nil ? "http" : "https")://127.0.0.1:\(server.port)" }
    private var client: HTTPClient { tls == nil ? .shared : TestTLS.controlClient }

    /// `pcr0`: the key policy's PCR0 (hex). `tls`: serve HTTPS with its certificate.
    init(simulator: NitroSimulator, pcr0: String? = nil, tls: TestTLS? = nil) throws {
        self.tls = tls
        server = try PythonServer(
            script: "kms_standin.py", arguments: [Self.keyARN, Self.accessKeyID, Self.secretAccessKey, simulator.rootPEM, pcr0 ?? simulator.pcr0],
            environment: tls?.fixtureEnvironment ?? [:], interpreter: Self.venv + "/python")
    }

    /// A runtime's KMS keys: the stand-in as endpoint, signed with the known access key.
    func runtimeEnvironment(dataKey: String, _ extra: [String: String] = [:]) -> [String: String] {
        [
            "ENCLAVE_DATA_KEY": "kms:" + dataKey, "KMS_KEY_ID": Self.keyARN, "ENCLAVE_KMS_ENDPOINT": base,
            "AWS_ACCESS_KEY_ID": Self.accessKeyID, "AWS_SECRET_ACCESS_KEY": Self.secretAccessKey,
        ].merging(extra) { $1 }
    }

    /// `aws kms ARGUMENTS --endpoint-url BASE --output text`: its stdout, trimmed, or its stderr as the error.
    func aws(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.venv + "/aws")
        process.arguments = ["kms"] + arguments + ["--endpoint-url", base, "--output", "text"]
        process.environment = ProcessInfo.processInfo.environment.merging([
            "AWS_ACCESS_KEY_ID": Self.accessKeyID, "AWS_SECRET_ACCESS_KEY": Self.secretAccessKey, "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        ].merging(tls.map { ["AWS_CA_BUNDLE": $0.caPEM] } ?? [:]) { $1 }) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw HarnessError(String(decoding: stderr, as: UTF8.self)) }
        return String(decoding: stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The operator's data key: `generate-data-key-without-plaintext`, no one ever sees its plaintext.
    func newDataKey(context: String = "data-key") throws -> String {
        try aws(["generate-data-key-without-plaintext", "--key-id", Self.keyARN, "--key-spec", "AES_256",
                 "--encryption-context", "enclave-runtime=\(context)", "--query", "CiphertextBlob"])
    }

    /// `aws kms encrypt` of `plaintext` under `context`.
    func encrypt(_ plaintext: String, context: String) throws -> String {
        let file = temporaryDirectory() + "/plaintext"
        try Data(plaintext.utf8).write(to: URL(fileURLWithPath: file))
        return try aws(["encrypt", "--key-id", Self.keyARN, "--plaintext", "fileb://" + file,
                        "--encryption-context", "enclave-runtime=\(context)", "--query", "CiphertextBlob"])
    }

    func setFault(_ mode: String) async throws {
        _ = try await httpCall(.POST, base + "/__fault", body: Array(mode.utf8), client: client)
    }

    func setIMDSLifetime(seconds: Int) async throws {
        _ = try await httpCall(.POST, base + "/__imds", body: Array(String(seconds).utf8), client: client)
    }

    func stats() async throws -> [String: Any] { try await httpCall(.GET, base + "/__stats", client: client).json }
}
