// The runtime's own work in a KMS release at start (docs/contract.md §3b), per secret: signing the
// TrentService.Decrypt request with SigV4 and opening the CiphertextForRecipient strictly, against
// its floor in the same run (BenchmarkBaselines/kms_floor.c: one RSA-2048 OAEP decryption and one
// AES-256-CBC block decryption with OpenSSL). The ciphertext is made by `openssl cms` for the
// recipient key, as in the tests. Target: at most 1.5 x the floor, judged on the two interleaved.
import Benchmark
import BenchmarkBaselines
import EnclaveCrypto
import Foundation

func openssl(_ arguments: [String], input: [UInt8] = []) -> [UInt8] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
    process.arguments = arguments
    let stdin = Pipe(), stdout = Pipe()
    (process.standardInput, process.standardOutput, process.standardError) = (stdin, stdout, FileHandle.nullDevice)
    try! process.run()
    stdin.fileHandleForWriting.write(Data(input))
    try! stdin.fileHandleForWriting.close()
    let output = stdout.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    precondition(process.terminationStatus == 0, "openssl \(arguments.first ?? "")")
    return [UInt8](output)
}

/// A CiphertextForRecipient of a 32-byte data key for `recipient`, BER, as KMS writes it.
func ciphertext(for recipient: KMSRecipient) -> [UInt8] {
    let directory = NSTemporaryDirectory() + "kms-release-bench-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = { (name: String) in directory + "/" + name }
    FileManager.default.createFile(atPath: path("pub.pem"), contents: Data(openssl(["pkey", "-pubin", "-inform", "DER"], input: try! recipient.publicKey())))
    _ = openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", path("ca.key"), "-out", path("ca.pem"), "-subj", "/CN=ca", "-days", "1"])
    _ = openssl(["req", "-new", "-key", path("ca.key"), "-subj", "/CN=r", "-out", path("csr.pem")])
    _ = openssl([
        "x509", "-req", "-in", path("csr.pem"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"), "-CAcreateserial", "-force_pubkey",
        path("pub.pem"), "-days", "1", "-out", path("cert.pem"),
    ])
    return openssl(
        ["cms", "-encrypt", "-binary", "-outform", "DER", "-stream", "-aes-256-cbc", "-recip", path("cert.pem"), "-keyopt",
         "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256", "-keyopt", "rsa_mgf1_md:sha256"],
        input: [UInt8](repeating: 7, count: 32))
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
