import EnclaveCrypto
import Foundation
import Testing

/// The Swift face of the C core's Nitro verifier, on the genuine AWS documents of the vectors.
@Suite("Nitro attestation documents through the Swift wrapper")
struct NitroDocumentTests {
    static let genuine: [(file: String, timestamp: Int64, debug: Bool)] = [
        ("evervault_ga_attestation_doc.cbor", 1_695_049_410_860, true),
        ("evervault_beta_valid-attestation-doc.cbor", 1_665_651_482_136, false),
        ("evervault_beta_debug-mode-attestation-doc.cbor", 1_665_582_606_081, true),
    ]
    static let betaPolicy = [
        "0=f4d48b81a460c9916d1e685119074bf24660afd3e34fae9fca0a0d28d9d5599936332687e6f66fc890ac8cf150142d8b",
        "1=bcdf05fefccaa8e55bf2c8d6dee9e79bbff31e34bf28a99aa19e6b29c37ee80b214a414b7607236edf26fcb78654e63f",
        "2=d8f114da658de5481f8d9ec73907feb553560787522f705c92d7d96beed8e15e2aa611984e098c576832c292e8dc469a",
        "8=8790eb3cce6c83d07e84b126dc61ca923333d6f66615c4a79157de48c5ab2418bdc60746ea7b7afbff03a1c6210201cb",
    ].joined(separator: ",")

    static func bytes(_ file: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: Vectors.directory.appendingPathComponent("nitro/\(file)")))
    }

    @Test("Each genuine document verifies at its own time with the built-in AWS root, and not today", arguments: genuine)
    func genuineDocuments(file: String, timestamp: Int64, debug: Bool) throws {
        let verifier = try NitroVerifier()
        let document = try NitroAttestationDocument(verifying: try Self.bytes(file), at: timestamp, with: verifier)
        #expect(document.timestampMilliseconds == timestamp && document.digest == "SHA384" && document.cabundle.count == 4)
        #expect(document.cabundle[0] == NitroVerifier.awsRootDER && document.pcrs.count == 16)
        #expect((document.pcrs[0] == [UInt8](repeating: 0, count: 48)) == debug)
        #expect(document.measurement.count == 96)
        try document.checkTime(at: timestamp + 300_000, maxAgeMilliseconds: 300_000, maxFutureMilliseconds: 30_000)
        #expect(throws: NitroError.stale) {
            try document.checkTime(at: timestamp + 300_001, maxAgeMilliseconds: 300_000, maxFutureMilliseconds: 30_000)
        }
        let today = Int64(Date().timeIntervalSince1970 * 1000)
        #expect(throws: NitroError.certificateExpired) {
            _ = try NitroAttestationDocument(verifying: try Self.bytes(file), at: today, with: verifier)
        }
        let zeros = "0=\(String(repeating: "0", count: 96))"
        if debug {
            #expect(throws: NitroError.debugEnclave) { try NitroPCRPolicy(zeros).check(document.pcrs, allowDebug: false) }
            try NitroPCRPolicy(zeros).check(document.pcrs, allowDebug: true)
        } else {
            try NitroPCRPolicy(Self.betaPolicy).check(document.pcrs, allowDebug: false)
            #expect(document.measurement == String(Self.betaPolicy.dropFirst(2).prefix(96)))
            #expect(throws: NitroError.pcrsNotAllowed) { try NitroPCRPolicy(zeros).check(document.pcrs, allowDebug: false) }
        }
    }

    @Test("A refused document teaches the cache nothing: the inserted-CA attack fails on a verifier that saw it")
    func cacheAttack() throws {
        // tools/nitro/forge_cache_attack.py: the genuine GA document with the attacker's CA at
        // cabundle[1], then AWS root -> that CA -> the attacker's leaf, at the genuine timestamp.
        let at: Int64 = 1_695_049_410_860
        let inserted = try Self.bytes("cache_attack_inserted_ca.cbor"), forged = try Self.bytes("cache_attack_forged_chain.cbor")
        let verifier = try NitroVerifier()
        #expect(throws: NitroError.signatureInvalid) { _ = try NitroAttestationDocument(verifying: inserted, at: at, with: verifier) }
        #expect(verifier.cachedLinks == 0)
        #expect(throws: NitroError.chainInvalid) { _ = try NitroAttestationDocument(verifying: forged, at: at, with: verifier) }
        _ = try NitroAttestationDocument(verifying: try Self.bytes("evervault_ga_attestation_doc.cbor"), at: at, with: verifier)
        #expect(throws: NitroError.chainInvalid) { _ = try NitroAttestationDocument(verifying: forged, at: at, with: verifier) }
    }

    @Test("A policy must be well-formed and hold a set; the AWS root is the one AWS publishes")
    func policyAndRoot() throws {
        #expect(throws: NitroError.policyEmpty) { _ = try NitroPCRPolicy(" ; ") }
        #expect(throws: NitroError.policyMalformed) { _ = try NitroPCRPolicy("0=abc") }
        let hash = try SHA256Digest.of(NitroVerifier.awsRootDER).map { String(format: "%02x", $0) }.joined()
        #expect(hash == "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b")
        // A flipped bit of the document never verifies.
        var document = try Self.bytes("evervault_beta_valid-attestation-doc.cbor")
        document[2000] ^= 0x10
        #expect(throws: NitroError.self) { _ = try NitroAttestationDocument(verifying: document, at: 1_665_651_482_136, with: try NitroVerifier()) }
    }
}
