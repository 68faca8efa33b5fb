// The runtime's own work in a KMS release at start (docs/contract.md §3b), per secret: signing the
// TrentService.Decrypt request with SigV4 and opening the CiphertextForRecipient strictly, against
// its floor in the same run (BenchmarkBaselines/kms_floor.c: one RSA-2048 OAEP decryption and one
// AES-256-CBC block decryption with OpenSSL). The ciphertext is made by `openssl cms` for the
// recipient key (tools/kms/cms_for_key.py), as in the tests. Target: at most 1.5 x the floor, judged on the two interleaved.
import Benchmark
import BenchmarkBaselines
import EnclaveCrypto
import Foundation

/// A CiphertextForRecipient of a 32-byte data key for `recipient`, BER, as KMS writes it, made by
/// tools/kms/cms_for_key.py (`openssl cms`).
func ciphertext(for recipient: KMSRecipient) -> [UInt8] {
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    let key = NSTemporaryDirectory() + "kms-release-bench-\(UUID().uuidString).der"
    FileManager.default.createFile(atPath: key, contents: Data(try! recipient.publicKey()))
    defer { try? FileManager.default.removeItem(atPath: key) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    process.arguments = [repository.appendingPathComponent("tools/kms/cms_for_key.py").path, key]
    let stdin = Pipe(), stdout = Pipe()
    (process.standardInput, process.standardOutput, process.standardError) = (stdin, stdout, FileHandle.nullDevice)
    try! process.run()
    stdin.fileHandleForWriting.write(Data(repeating: 7, count: 32))
    try! stdin.fileHandleForWriting.close()
    let output = stdout.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    precondition(process.terminationStatus == 0, "cms_for_key.py failed")
    return [UInt8](output)
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock], timeUnits: .microseconds, warmupIterations: 3, maxDuration: .seconds(4), maxIterations: 2000)
    let recipient = try! KMSRecipient()
    let cms = ciphertext(for: recipient)
    let floor = kms_floor_new()!
    let body = Array(#"{"CiphertextBlob":"\#(String(repeating: "A", count: 248))","KeyId":"arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab","EncryptionContext":{"enclave-runtime":"data-key"},"Recipient":{"KeyEncryptionAlgorithm":"RSAES_OAEP_SHA_256","AttestationDocument":"\#(String(repeating: "B", count: 6000))"}}"#.utf8)
    let request = SigV4Request(
        method: "POST", path: "/",
        headers: [("Host", "kms.eu-west-1.amazonaws.com"), ("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", "TrentService.Decrypt")],
        payload: body, amzDate: "20261207T101500Z", region: "eu-west-1", service: "kms", accessKeyID: "AKIAIOSFODNN7EXAMPLE",
        secretAccessKey: Array("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".utf8), sessionToken: String(repeating: "t", count: 800))

    @Sendable func release() {
        blackHole(try! request.authorization())
        blackHole(try! recipient.open(cms))
    }
    Benchmark("floor: one RSA-2048 OAEP decryption and one AES-256-CBC block (OpenSSL)") { benchmark in
        for _ in benchmark.scaledIterations { precondition(kms_floor_run(floor) == 0) }
    }
    Benchmark("release of one secret: SigV4 of the Decrypt request and the strict CMS open") { benchmark in
        for _ in benchmark.scaledIterations { release() }
    }
    Benchmark("SigV4 of the Decrypt request alone") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try! request.authorization()) }
    }
    // The target, judged request by request: each sample takes both sides in a new random order.
    let perMille = BenchmarkMetric.custom("release / floor (per mille)", useScalingFactor: false)
    Benchmark("release against its floor, interleaved", configuration: .init(metrics: [perMille], maxDuration: .seconds(6), maxIterations: 60)) {
        benchmark in
        let clock = ContinuousClock()
        var times: [Duration] = [.zero, .zero]
        for _ in 0..<20 {
            for side in [0, 1].shuffled() {
                let started = clock.now
                if side == 0 { release() } else { precondition(kms_floor_run(floor) == 0) }
                times[side] += clock.now - started
            }
        }
        benchmark.measurement(perMille, Int((times[0] / times[1]) * 1000))
    }
}
