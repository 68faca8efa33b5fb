import EnclaveContract
import EnclaveCrypto
import Testing

@Suite("Sealing, evidence payload, BLAKE2b bounds, sizes")
struct PrimitivesTests {
    let aad = Array("user-1|connector-1|kms/local/alfred-refresh-token|1".utf8)
    let token = Array("1//0refresh-token-example".utf8)

    @Test("Seal then open returns the plaintext; each seal uses a fresh nonce")
    func sealRoundTrip() throws {
        let sealer = try Sealer(key: try SecureRandom.bytes(32))
        let sealed = try sealer.seal(token, associatedData: aad)
        #expect(sealed.count == token.count + EnclaveCore.sealOverheadBytes)
        #expect(try sealer.open(sealed, associatedData: aad) == token)
        #expect(try sealer.seal(token, associatedData: aad).prefix(12) != sealed.prefix(12))
        #expect(try sealer.open(try sealer.seal([], associatedData: []), associatedData: []) == [])
    }

    @Test("Every tamper fails: key, associated data, each byte of nonce, ciphertext and tag, truncation")
    func sealTamper() throws {
        let sealer = try Sealer(key: try SecureRandom.bytes(32))
        let sealed = try sealer.seal(token, associatedData: aad)
        #expect(throws: EnclaveCryptoError.openFailed) {
            try Sealer(key: try SecureRandom.bytes(32)).open(sealed, associatedData: aad)
        }
        #expect(throws: EnclaveCryptoError.openFailed) { try sealer.open(sealed, associatedData: aad + [0]) }
        #expect(throws: EnclaveCryptoError.openFailed) { try sealer.open(sealed, associatedData: []) }
        for index in sealed.indices {
            var tampered = sealed
            tampered[index] ^= 0x80
            #expect(throws: EnclaveCryptoError.openFailed) { try sealer.open(tampered, associatedData: aad) }
        }
        for length in 0..<sealed.count {
            #expect(throws: EnclaveCryptoError.openFailed) { try sealer.open(Array(sealed.prefix(length)), associatedData: aad) }
        }
        #expect(throws: EnclaveCryptoError.invalidKeyLength) { try Sealer(key: [UInt8](repeating: 1, count: 31)) }
    }

    @Test("Evidence payload: canonical form, and '|' or control characters rejected")
    func challengePayload() throws {
        var fields = ChallengeEvidenceFields(
            runtime: "nitro", measurement: "dev-local-enclave", challengeNonce: "n", issuedAt: 1_767_225_600,
            expiresAt: 1_767_225_900, operationPurpose: "decrypt", requestID: "r", evidenceIssuedAt: 1_767_225_601)
        #expect(String(decoding: try fields.canonicalPayload(), as: UTF8.self)
            == "nitro|dev-local-enclave|n|1767225600|1767225900|decrypt|r|1767225601")
        fields.challengeNonce = "ünïcode"
        #expect(try fields.canonicalPayload().count > 0)
        for bad in ["a|b", "a\nb", "\u{1}", "\u{7f}", "a\u{0}"] {
            var broken = fields
            broken.requestID = bad
            #expect(throws: EnclaveCryptoError.invalidField) { try broken.canonicalPayload() }
            broken = fields
            broken.runtime = bad
            #expect(throws: EnclaveCryptoError.invalidField) { try broken.canonicalPayload() }
        }
    }

    @Test("Challenge signer: generated keys sign evidence that verifies, tampering does not")
    func challengeSigner() throws {
        let signer = try ChallengeSigner.generate()
        let payload = Array("nitro|m|n|1|2|decrypt|r|3".utf8)
        let signature = try signer.sign(payload)
        #expect(Ed25519.verify(publicKey: signer.publicKey, message: payload, signature: signature))
        #expect(!Ed25519.verify(publicKey: signer.publicKey, message: payload + [0x20], signature: signature))
        #expect(!Ed25519.verify(publicKey: try ChallengeSigner.generate().publicKey, message: payload, signature: signature))
        #expect(!Ed25519.verify(publicKey: signer.publicKey, message: payload, signature: Array(signature.dropLast())))
        #expect(throws: EnclaveCryptoError.invalidKeyLength) { try ChallengeSigner(seed: [1, 2, 3]) }
    }

    @Test("BLAKE2b rejects out-of-range lengths and keys")
    func blake2bBounds() throws {
        #expect(throws: EnclaveCryptoError.invalidArgument) { try BLAKE2b.hash([1], outputLength: 0) }
        #expect(throws: EnclaveCryptoError.invalidArgument) { try BLAKE2b.hash([1], outputLength: 65) }
        #expect(throws: EnclaveCryptoError.invalidKeyLength) { try BLAKE2b.hash([1], key: .init(repeating: 0, count: 65)) }
        #expect(try BLAKE2b.hash([1], key: [9], outputLength: 16).count == 16)
        #expect(try BLAKE2b.hash([1], key: [9]) != BLAKE2b.hash([1], key: [8]))
    }

    @Test("Size functions equal the macros; constant-time compare; random bytes")
    func sizesAndUtilities() throws {
        #expect(EnclaveCore.runtimeSizes == EnclaveCore.compiledSizes)
        #expect(EnclaveCore.compiledSizes == [32, 64, 32, 32, 64, 32, 28])
        #expect(EnclaveCore.version == "1.5.0")
        #expect(ConstantTime.equals([1, 2, 3], [1, 2, 3]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2, 4]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2]))
        #expect(ConstantTime.equals("token", "token") && !ConstantTime.equals("token", "tokeN"))
        let a = try SecureRandom.bytes(32), b = try SecureRandom.bytes(32)
        #expect(a.count == 32 && a != b)
    }
}
