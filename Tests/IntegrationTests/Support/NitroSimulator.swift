import Foundation
import TestSupport

/// tools/nitro/nsm_sim.py as a real process: an NSM simulator on a Unix socket of its own, its
/// throwaway root written as PEM, controlled over loopback HTTP; it exits with this object's
/// lifeline.
final class NitroSimulator: @unchecked Sendable {
    let process = Process()
    let directory = temporaryDirectory()
    let controlPort: Int
    /// The PCRs of its documents at start, in TEE_ALLOWED_PCRS syntax.
    let pcrs: String
    private let lifeline = Pipe()

    var socket: String { directory + "/nsm.sock" }
    var rootPEM: String { directory + "/root.pem" }
    var device: String { "unix:" + socket }
    var pcr0: String { String(pcrs.split(separator: ",")[0].dropFirst(2)) }

    init(pcrs initial: String? = nil) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [repositoryRoot.appendingPathComponent("tools/nitro/nsm_sim.py").path, "--socket", directory + "/nsm.sock",
                             "--root-out", directory + "/root.pem", "--lifeline"] + (initial.map { ["--pcrs", $0] } ?? [])
        process.environment = ProcessInfo.processInfo.environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        process.standardInput = lifeline
        try process.run()
        var text = ""
        let reader = output.fileHandleForReading
        while !text.contains("PCRS ") || !text.hasSuffix("\n") {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        let lines = text.split(separator: "\n")
        guard let control = lines.first(where: { $0.hasPrefix("CONTROL ") }).flatMap({ Int($0.dropFirst(8)) }),
            let pcrs = lines.first(where: { $0.hasPrefix("PCRS ") }).map({ String($0.dropFirst(5)) })
        else {
            killAndReap(process)
            throw HarnessError("nsm_sim.py did not start: \(text)")
        }
        controlPort = control
        self.pcrs = pcrs
    }

    private func control(_ path: String, _ body: String) async throws {
        let result = try await httpCall(.POST, "http://127.0.0.1:\(controlPort)\(path)", body: Array(body.utf8))
        guard result.status == 200 else { throw HarnessError("simulator refused \(path) \(body)") }
    }

    func setPCRs(_ policySet: String) async throws { try await control("/pcrs", policySet) }
    func backdate(milliseconds: Int) async throws { try await control("/backdate", String(milliseconds)) }
    /// normal, error (the NSM answers an error) or silent (it closes without a word).
    func setMode(_ mode: String) async throws { try await control("/mode", mode) }

    /// The environment of a runtime attesting through this simulator (remote mode, local).
    func runtimeEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
        [
            "ALFRED_ENV": "local", "ENCLAVE_RUNTIME_MODE": "remote", "TEE_ATTESTATION_REQUIRED": "true",
            "TEE_ALLOW_INSECURE_DEV_ATTESTATION": "false", "TEE_ATTESTATION_SOURCE": "nsm", "ENCLAVE_NSM_DEVICE": device,
            "ENCLAVE_DATA_KEY": Data(repeating: 5, count: 32).base64EncodedString(), "GOOGLE_OAUTH_CLIENT_ID": "c",
            "GOOGLE_OAUTH_CLIENT_SECRET": "s", "ENCLAVE_STATE_DIR": temporaryDirectory(),
        ].merging(extra) { $1 }
    }

    /// The environment of a host pinning this simulator's root and `policy` (its own PCRs by default).
    func hostEnvironment(base: String, policy: String? = nil, _ extra: [String: String] = [:]) -> [String: String] {
        IntegrationTests.hostEnvironment(base: base, [
            "ENCLAVE_RUNTIME_MODE": "remote", "TEE_ATTESTATION_REQUIRED": "true", "TEE_ALLOW_INSECURE_DEV_ATTESTATION": "false",
            "TEE_ALLOWED_PCRS": policy ?? pcrs, "TEE_NITRO_ROOT_CERTIFICATE": rootPEM, "TEE_ALLOWED_MEASUREMENTS": pcr0,
        ].merging(extra) { $1 })
    }

    deinit { killAndReap(process) }
}
