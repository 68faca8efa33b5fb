// Signature verification, the product's hottest path, against what a caller would write without
// the core, all measured in the same run (scripts/bench.sh prints the ratios of the medians).
import Benchmark
import BenchmarkBaselines
import Crypto
import EnclaveContract
import EnclaveCrypto

let secret = Array("bench-shared-secret-0123456789abcdef".utf8)
let path = "/v1/rpc/google/token/exchange"
let timestamp = "1767225600"
let nonce = "0123456789abcdef0123456789abcdef"  // 32 characters, like a host's hex nonce

func body(_ size: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    return (0..<size).map { _ in UInt8.random(in: 0x20...0x7e, using: &generator) }
}

func naiveVerify(_ body: [UInt8], _ signature: String) -> Int32 {
    body.withUnsafeBufferPointer { b in
        secret.withUnsafeBufferPointer { k in
            baseline_naive_verify(
                k.baseAddress, k.count, "POST", 4, path, path.utf8.count, timestamp, timestamp.utf8.count, nonce,
                nonce.utf8.count, b.baseAddress, b.count, signature, signature.utf8.count)
        }
    }
}

func hexBytes(_ text: String) -> [UInt8] {
    let chars = Array(text.utf8)
    return stride(from: 0, to: chars.count, by: 2).map { UInt8(String(decoding: chars[$0...$0 + 1], as: UTF8.self), radix: 16)! }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal],
        timeUnits: .nanoseconds,
        warmupIterations: 100,
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1_000_000
    )

    let verifier = try! RPCVerifier(secret: secret)
    let signer = try! RPCSigner(secret: secret)
    let swiftCryptoKey = SymmetricKey(data: secret)

    for (label, size) in [("256B", 256), ("4KiB", 4096), ("64KiB", 65536)] {
        let payload = body(size)
        let signature = signer.signature(path: path, timestamp: timestamp, nonce: nonce, body: payload)
        precondition(verifier.check(path: path, timestamp: timestamp, nonce: nonce, body: payload, signatureHex: signature) == .current)
        precondition(naiveVerify(payload, signature) == 0)

        Benchmark("verify \(label) ec_rpc_verify (keyed)") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(verifier.check(path: path, timestamp: timestamp, nonce: nonce, body: payload, signatureHex: signature))
            }
        }
        Benchmark("verify \(label) naive OpenSSL HMAC()") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(naiveVerify(payload, signature))
            }
        }
        Benchmark("verify \(label) swift-crypto HMAC") { benchmark in
            for _ in benchmark.scaledIterations {
                var message = [UInt8]()
                message.reserveCapacity(payload.count + 64)
                message += Array("POST\0\(path)\0\(timestamp)\0\(nonce)\0".utf8)
                message += payload
                let expected = hexBytes(signature)
                blackHole(HMAC<SHA256>.isValidAuthenticationCode(expected, authenticating: message, using: swiftCryptoKey))
            }
        }
    }

    let seed = (0..<32).map { UInt8($0) }
    let challengeSigner = try! ChallengeSigner(seed: seed)
    let rawKey = seed.withUnsafeBufferPointer { baseline_ed25519_key_new($0.baseAddress) }
    let payload = try! ChallengeEvidenceFields(
        runtime: "nitro", measurement: "dev-local-enclave", challengeNonce: "7f3a9c2e5b8d4f1a6c0e9b2d5a8f3c7e",
        issuedAt: 1_767_225_600, expiresAt: 1_767_225_900, operationPurpose: "decrypt",
        requestID: "req-3f9a2c7e-1b4d-4e8f-9a6c-2d5e8f1a4b7c", evidenceIssuedAt: 1_767_225_601
    ).canonicalPayload()
    let signConfiguration = Benchmark.Configuration(scalingFactor: .one)

    Benchmark("sign challenge ec_ed25519_signer_sign", configuration: signConfiguration) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try challengeSigner.sign(payload))
        }
    }
    Benchmark("sign challenge raw EVP_DigestSign", configuration: signConfiguration) { benchmark in
        var signature = [UInt8](repeating: 0, count: 64)
        for _ in benchmark.scaledIterations {
            let rc = payload.withUnsafeBufferPointer { p in
                signature.withUnsafeMutableBufferPointer { baseline_ed25519_sign(rawKey, p.baseAddress, p.count, $0.baseAddress) }
            }
            blackHole(rc)
        }
    }
}
