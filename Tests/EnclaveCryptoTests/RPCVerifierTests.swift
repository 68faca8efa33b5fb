import EnclaveCrypto
import Testing

@Suite("Request signatures: signer, keyed verifier, rotation")
struct RPCVerifierTests {
    static let body = Array(#"{"contract_version":"v1","request_id":"r-3"}"#.utf8)
    static let path = "/v1/rpc/ping", ts = "1767225600", nonce = "nonce-0123456789abcdef0123456789ab"

    func check(_ verifier: RPCVerifier, _ signature: String, body: [UInt8] = body, nonce: String = nonce) -> RPCSignatureCheck {
        verifier.check(path: Self.path, timestamp: Self.ts, nonce: nonce, body: body, signatureHex: signature)
    }

    func sign(_ secret: String) throws -> String {
        try RPCSigner(secret: secret).signature(path: Self.path, timestamp: Self.ts, nonce: Self.nonce, body: Self.body)
    }

    @Test("Signature equals Python's hmac over the canonical message")
    func knownValue() throws {
        // python3: hmac.new(b"local-dev-enclave-rpc-secret", b"POST\0/v1/rpc/ping\01767225600\0nonce-...\0" + body, sha256)
        #expect(try sign("local-dev-enclave-rpc-secret") == "1ce3361b9f42bbd4ec0cf8f329e9fa5f0e6f544bd93e92be0ade8adf9cfb0a03")
    }

    @Test("Rotation: current key is .current, previous is .previous, any other is .invalid")
    func rotation() throws {
        let current = "current-secret-0123456789abcdef", previous = "previous-secret-0123456789abcdef"
        let rotating = try RPCVerifier(secret: current, previousSecret: previous)
        let plain = try RPCVerifier(secret: current)
        #expect(check(rotating, try sign(current)) == .current)
        #expect(check(rotating, try sign(previous)) == .previous)
        #expect(check(rotating, try sign("unknown-secret-0123456789abcdef")) == .invalid)
        #expect(check(plain, try sign(previous)) == .invalid)
    }

    @Test("An empty key is refused by every signer and verifier: current or previous, bytes or text")
    func emptyKeys() {
        // A MAC under the empty key is one anyone can make; "no previous key" is nil, never empty.
        #expect(throws: (any Error).self) { _ = try RPCSigner(secret: "") }
        #expect(throws: (any Error).self) { _ = try RPCVerifier(secret: "") }
        #expect(throws: (any Error).self) { _ = try RPCVerifier(secret: "current-secret-0123456789abcdef", previousSecret: "") }
        #expect(throws: (any Error).self) { _ = try RPCVerifier(secret: [], previousSecret: Array("previous-secret".utf8)) }
        #expect(throws: Never.self) { _ = try RPCVerifier(secret: "current-secret-0123456789abcdef", previousSecret: nil) }
    }

    @Test("Either hex case is accepted; wrong length and non-hex digits are not")
    func hexForms() throws {
        let verifier = try RPCVerifier(secret: "s3cr3t-s3cr3t-s3cr3t")
        let signature = try sign("s3cr3t-s3cr3t-s3cr3t")
        #expect(check(verifier, signature.uppercased()) == .current)
        #expect(check(verifier, String(signature.dropLast())) == .invalid)
        #expect(check(verifier, signature + "0") == .invalid)
        #expect(check(verifier, "") == .invalid)
        for bad in ["g", "G", " ", "z", "é"] {
            var chars = Array(signature)
            chars[10] = Character(bad)
            #expect(check(verifier, String(chars)) == .invalid)
        }
    }

    @Test("Random bit flips of signature and body are rejected")
    func bitFlips() throws {
        let verifier = try RPCVerifier(secret: "flip-secret-0123456789", previousSecret: "older-secret-0123456789")
        let signature = try sign("flip-secret-0123456789")
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<1000 {
            var sig = Array(signature.utf8)
            let position = Int.random(in: 0..<sig.count, using: &rng)
            sig[position] ^= UInt8(1) << UInt8.random(in: 0..<7, using: &rng)
            let flipped = String(decoding: sig, as: UTF8.self)
            if flipped.lowercased() != signature {
                #expect(check(verifier, flipped) == .invalid)
            }
            var body = Self.body
            body[Int.random(in: 0..<body.count, using: &rng)] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
            #expect(check(verifier, signature, body: body) == .invalid)
        }
    }

    @Test("Each signed part matters, and bytes cannot move across a separator")
    func partsAreBound() throws {
        let verifier = try RPCVerifier(secret: "part-secret-0123456789")
        let signature = try sign("part-secret-0123456789")
        #expect(verifier.check(method: "PUT", path: Self.path, timestamp: Self.ts, nonce: Self.nonce, body: Self.body, signatureHex: signature) == .invalid)
        #expect(verifier.check(path: "/v1/rpc/pin", timestamp: "g" + Self.ts, nonce: Self.nonce, body: Self.body, signatureHex: signature) == .invalid)
        #expect(verifier.check(path: Self.path, timestamp: "1767225601", nonce: Self.nonce, body: Self.body, signatureHex: signature) == .invalid)
        #expect(check(verifier, signature, nonce: Self.nonce + "!") == .invalid)
        #expect(check(verifier, signature, body: Self.body + [0x20]) == .invalid)
    }

    @Test("A verifier is safe to share between concurrent tasks")
    func concurrentUse() async throws {
        let verifier = try RPCVerifier(secret: "shared-secret-0123456789")
        let signature = try sign("shared-secret-0123456789")
        let results = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<64 {
                group.addTask {
                    let good = self.check(verifier, signature) == .current
                    let bad = self.check(verifier, signature, nonce: "other-\(i)") == .invalid
                    return good && bad
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.count == 64 && results.allSatisfy { $0 })
    }
}
