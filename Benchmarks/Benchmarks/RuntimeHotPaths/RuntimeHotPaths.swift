// The runtime's own hot paths: the replay cache at 10 thousand and 1 million live nonces (same
// capacity, so only the fill differs), its memory per live nonce, and challenge evidence through
// the handler's logic against the bare Ed25519 signature inside it.
import Benchmark
import EnclaveContract
import EnclaveCrypto
import EnclaveRuntime
import Foundation

let now: Int64 = 1_767_225_600
let capacity = 1_100_000
let measuredNonces = (0..<200_000).map { String(format: "%032x", 0xfeed_0000_0000 + $0) }

func filledCache(live: Int) -> ReplayCache {
    let cache = ReplayCache(capacity: capacity, windowSeconds: 300)
    for i in 0..<live { _ = cache.record(nonce: String(format: "%032x", i), timestamp: now, now: now) }
    return cache
}

/// Resident memory of this process (/proc/self/statm, second field, in pages).
func residentBytes() -> Int {
    let statm = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8)) ?? ""
    let pages = statm.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
    return pages * 4096
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal], timeUnits: .nanoseconds, warmupIterations: 0,
        scalingFactor: .kilo, maxDuration: .seconds(2), maxIterations: 150)

    for (label, live) in [("10k", 10_000), ("1M", 1_000_000)] {
        let cache = filledCache(live: live)
        nonisolated(unsafe) var next = 0
        Benchmark("replay cache insert at \(label) live nonces") { benchmark in
            for _ in benchmark.scaledIterations {
                // A fresh, prebuilt nonce each time (at most 150 x 1000 < 200k): the measured inserts
                // add at most 150k to the fill.
                blackHole(cache.record(nonce: measuredNonces[next], timestamp: now, now: now))
                next += 1
            }
        }
    }

    Benchmark(
        "replay cache bytes per live nonce at capacity",
        configuration: .init(metrics: [.custom("bytes per live nonce", useScalingFactor: false)], scalingFactor: .one, maxIterations: 1)
    ) { benchmark in
        let before = residentBytes()
        let cache = ReplayCache(capacity: 1_000_000, windowSeconds: 300)
        for i in 0..<1_000_000 { _ = cache.record(nonce: String(format: "%032x", i), timestamp: now, now: now) }
        let after = residentBytes()
        benchmark.measurement(.custom("bytes per live nonce", useScalingFactor: false), (after - before) / 1_000_000)
        blackHole(cache)
    }

    let signer = try! ChallengeSigner(seed: (0..<32).map { UInt8($0) })
    let document = AttestationDocument.devShim(measurement: "dev-local-enclave", issuedAt: now, publicKey: signer.publicKey)
    let service = ChallengeService(document: document, signer: signer, maxAgeSeconds: 300, maxSkewSeconds: 30, now: { now })
    let body = Array(#"{"challenge_nonce":"7f3a9c2e5b8d4f1a6c0e9b2d5a8f3c7e","issued_at":1767225600,"expires_at":1767225900,"operation_purpose":"decrypt","request_id":"req-3f9a2c7e-1b4d-4e8f-9a6c-2d5e8f1a4b7c"}"#.utf8)
    let payload = try! ChallengeEvidenceFields(
        runtime: "nitro", measurement: "dev-local-enclave", challengeNonce: "7f3a9c2e5b8d4f1a6c0e9b2d5a8f3c7e",
        issuedAt: now, expiresAt: now + 300, operationPurpose: "decrypt", requestID: "req-3f9a2c7e-1b4d-4e8f-9a6c-2d5e8f1a4b7c",
        evidenceIssuedAt: now).canonicalPayload()
    let signing = Benchmark.Configuration(scalingFactor: .one, maxIterations: 100_000)
    Benchmark("challenge evidence through the handler logic", configuration: signing) { benchmark in
        for _ in benchmark.scaledIterations {
            if case .success(let json) = service.answer(body) { blackHole(json) }
        }
    }
    Benchmark("challenge evidence bare ec_ed25519_signer_sign", configuration: signing) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try signer.sign(payload))
        }
    }
}
