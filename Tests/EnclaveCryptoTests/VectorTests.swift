import EnclaveCrypto
import Testing

@Suite("Published vectors through the C core")
struct VectorTests {
    @Test("Wycheproof HMAC-SHA256, raw MAC (the key schedule the canonical MAC uses)")
    func wycheproofHMAC() throws {
        let cases = try Vectors.wycheproof("hmac_sha256_test.json")
        #expect(cases.count == 174)
        for (group, test) in cases {
            let key = hex(test["key"] as! String), message = hex(test["msg"] as! String)
            let tag = hex(test["tag"] as! String)
            let valid = test["result"] as! String == "valid"
            let mac = try HMACSHA256.mac(key: key, message: message)
            #expect((Array(mac.prefix((group["tagSize"] as! Int) / 8)) == tag) == valid, "tcId \(test["tcId"]!)")
        }
    }

    @Test("Wycheproof keys and messages through the canonical MAC: METHOD\\0PATH\\0TS\\0NONCE\\0BODY")
    func canonicalMatchesJoinedHMAC() throws {
        for (_, test) in try Vectors.wycheproof("hmac_sha256_test.json") {
            let key = hex(test["key"] as! String), body = hex(test["msg"] as! String)
            let path = "/v1/rpc/google/token/exchange", ts = "1767225600", nonce = "n-\(test["tcId"]!)"
            let joined = Array("POST\0\(path)\0\(ts)\0\(nonce)\0".utf8) + body
            let expected = hexString(try HMACSHA256.mac(key: key, message: joined))
            let signer = try RPCSigner(secret: key)
            let signature = signer.signature(path: path, timestamp: ts, nonce: nonce, body: body)
            #expect(signature == expected)
            // The same digits from the byte-level API the load generator signs with.
            let (method, pathBytes, tsBytes, nonceBytes) = (Array("POST".utf8), Array(path.utf8), Array(ts.utf8), Array(nonce.utf8))
            let hex = signer.signatureHex(
                method: method.span.bytes, path: pathBytes.span.bytes, timestamp: tsBytes.span.bytes,
                nonce: nonceBytes.span.bytes, body: body.span.bytes)
            #expect((0..<64).map { hex[$0] } == Array(expected.utf8))
            let verifier = try RPCVerifier(secret: key)
            #expect(verifier.check(path: path, timestamp: ts, nonce: nonce, body: body, signatureHex: expected) == .current)
            #expect(verifier.check(path: path, timestamp: ts, nonce: nonce + "x", body: body, signatureHex: expected) == .invalid)
        }
    }

    @Test("RFC 4231 HMAC-SHA256 test cases 1 to 7")
    func rfc4231() throws {
        let cases = try Vectors.json("rfc4231_rfc8032_vectors.json")["hmac_sha256_rfc4231"] as! [[String: Any]]
        #expect(cases.count == 7)
        for test in cases {
            let expected = hex(test["hmac_sha256"] as! String)
            let mac = try HMACSHA256.mac(key: hex(test["key"] as! String), message: hex(test["data"] as! String))
            #expect(Array(mac.prefix(expected.count)) == expected, "\(test["name"]!)")
        }
    }

    @Test("Wycheproof Ed25519 verification")
    func wycheproofEd25519() throws {
        let cases = try Vectors.wycheproof("ed25519_test.json")
        #expect(cases.count == 151)
        for (group, test) in cases {
            let publicKey = hex((group["publicKey"] as! [String: Any])["pk"] as! String)
            let ok = Ed25519.verify(
                publicKey: publicKey, message: hex(test["msg"] as! String), signature: hex(test["sig"] as! String))
            #expect(ok == (test["result"] as! String == "valid"), "tcId \(test["tcId"]!)")
        }
    }

    @Test("RFC 8032 Ed25519 signing reproduces every signature")
    func rfc8032() throws {
        let cases = try Vectors.json("rfc4231_rfc8032_vectors.json")["ed25519_rfc8032"] as! [[String: Any]]
        #expect(cases.count == 5)
        for test in cases {
            let signer = try ChallengeSigner(seed: hex(test["secret_key"] as! String))
            #expect(signer.publicKey == hex(test["public_key"] as! String))
            let message = hex(test["message"] as! String)
            let signature = try signer.sign(message)
            #expect(signature == hex(test["signature"] as! String), "\(test["name"]!)")
            #expect(Ed25519.verify(publicKey: signer.publicKey, message: message, signature: signature))
        }
    }

    @Test("BLAKE2b keyed KAT (libb2 argument order pinned)")
    func blake2bKAT() throws {
        let cases = try Vectors.blake2bKAT()
        #expect(cases.count == 256)
        for test in cases {
            #expect(try BLAKE2b.hash(test.input, key: test.key) == test.hash)
        }
    }
}
