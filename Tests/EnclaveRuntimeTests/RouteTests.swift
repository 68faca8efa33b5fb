import EnclaveContract
import EnclaveConfiguration
import EnclaveCrypto
@testable import EnclaveRuntime
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TestSupport

/// Builds the runtime in process with a test clock and runs `body` against its router.
func withRuntime(
    _ env: [String: String] = [:], clock: TestClock = TestClock(), stateDirectory: String = temporaryDirectory(),
    _ body: @Sendable (any TestClientProtocol, TestClock) async throws -> Void
) async throws {
    // In process: the audit trail goes to /dev/null, not into the test runner's output.
    let configuration = try RuntimeConfiguration.load(EnvironmentSource(localEnvironment(
        ["ENCLAVE_AUDIT_LOG": "/dev/null"].merging(env) { $1 }, stateDirectory: stateDirectory)))
    let runtime = try EnclaveRuntimeApplication(configuration: configuration, logger: testLogger, now: clock.closure)
    do {
        try await runtime.application.test(.router) { client in try await body(client, clock) }
    } catch {
        try await runtime.shutdown()
        throw error
    }
    try await runtime.shutdown()
}

extension TestClientProtocol {
    /// POSTs `body` with the given header list (names may repeat).
    func post(_ path: String, headers: [(String, String)], body: [UInt8]) async throws -> (status: Int, json: [String: Any], headers: HTTPFields) {
        var fields = HTTPFields()
        for (name, value) in headers { fields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
        let response = try await execute(uri: path, method: .post, headers: fields, body: ByteBuffer(bytes: body))
        return (Int(response.status.code), parseJSON(Array(response.body.readableBytesView)), response.headers)
    }

    func signedPost(
        _ path: String, _ object: [String: Any], clock: TestClock, secret: String = SharedSettings.localSharedSecret,
        nonce: String = UUID().uuidString, timestampOffset: Int64 = 0
    ) async throws -> (status: Int, json: [String: Any], headers: HTTPFields) {
        let body = json(object)
        let headers = signedHeaders(path: path, body: body, secret: secret, timestamp: clock.now + timestampOffset, nonce: nonce)
        return try await post(path, headers: headers, body: body)
    }
}

@Suite("Routes: every code and status of the contract, in the verification order")
struct RouteTests {
    func expectError(_ result: (status: Int, json: [String: Any], headers: HTTPFields), _ status: Int, _ code: String,
                     requestID: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == status, "status for \(code)", sourceLocation: sourceLocation)
        #expect(errorCode(result.json) == code, sourceLocation: sourceLocation)
        #expect(result.json["contract_version"] as? String == "v1", sourceLocation: sourceLocation)
        if let requestID {
            #expect(result.json["request_id"] as? String == requestID, sourceLocation: sourceLocation)
        } else {
            #expect(result.json["request_id"] is NSNull, "request_id must be null", sourceLocation: sourceLocation)
        }
        let error = result.json["error"] as? [String: Any]
        #expect(error?["retryable"] as? Bool == RPCErrorCode(rawValue: code)!.retryable, sourceLocation: sourceLocation)
        #expect((error?["message"] as? String)?.isEmpty == false, sourceLocation: sourceLocation)
    }

    @Test("healthz, document, and a ping that echoes the attested identity")
    func happyPaths() async throws {
        try await withRuntime { client, clock in
            let health = try await client.execute(uri: "/healthz", method: .get)
            #expect(parseJSON(Array(health.body.readableBytesView)) as NSDictionary == [
                "status": "ok", "environment": "local", "mode": "dev-shim", "store": "sqlite", "store_reachable": true, "secrets": "configured",
            ])
            let document = parseJSON(Array(try await client.execute(uri: "/v1/attestation/document", method: .get).body.readableBytesView))
            #expect(document["runtime"] as? String == "nitro" && document["measurement"] as? String == "dev-local-enclave")
            #expect(document["dev_shim"] as? Bool == true && document["signature"] is NSNull && document["issued_at"] as? Int == Int(clock.now))
            #expect(Data(base64Encoded: document["public_key"] as! String)?.count == 32)
            let pong = try await client.signedPost("/v1/rpc/ping", ping, clock: clock)
            #expect(pong.status == 200 && pong.json["request_id"] as? String == "r-3" && pong.json["contract_version"] as? String == "v1")
            #expect(pong.json["attested_identity"] as? NSDictionary == ["runtime": "nitro", "measurement": "dev-local-enclave"])
        }
    }

    @Test("Routing first: 404 and 405 carry the envelope under /v1/rpc/, before authentication")
    func routing() async throws {
        try await withRuntime { client, clock in
            expectError(try await client.post("/v1/rpc/unknown", headers: [], body: []), 404, "not_found")
            expectError(try await client.post("/v1/rpc/ping/", headers: [], body: []), 404, "not_found")
            let get = try await client.execute(uri: "/v1/rpc/ping", method: .get)
            #expect(get.status == .methodNotAllowed && errorCode(parseJSON(Array(get.body.readableBytesView))) == "method_not_allowed")
            #expect(get.headers[.allow] == "POST")
            let put = try await client.execute(uri: "/v1/rpc/google/token/exchange", method: .put)
            #expect(put.status == .methodNotAllowed)
            #expect(try await client.execute(uri: "/nope", method: .get).status == .notFound)
            #expect(try await client.execute(uri: "/healthz", method: .post).status == .methodNotAllowed)
            #expect(try await client.execute(uri: "/v1/attestation/challenge", method: .get).status == .methodNotAllowed)
            // The query is not part of the route.
            let body = json(ping)
            let headers = signedHeaders(path: "/v1/rpc/ping", body: body, timestamp: clock.now)
            #expect(try await client.post("/v1/rpc/ping?x=1", headers: headers, body: body).status == 200)
        }
    }

    @Test("Steps 1 and 2: headers in table order, missing vs malformed, duplicates")
    func headerChecks() async throws {
        try await withRuntime { client, clock in
            let body = json(ping)
            let good = signedHeaders(path: "/v1/rpc/ping", body: body, timestamp: clock.now)
            func without(_ name: String) -> [(String, String)] { good.filter { $0.0 != name } }
            func replacing(_ name: String, _ value: String) -> [(String, String)] { good.map { $0.0 == name ? ($0.0, value) : $0 } }
            for name in ["x-alfred-rpc-version", "x-alfred-rpc-ts", "x-alfred-rpc-nonce", "x-alfred-rpc-signature"] {
                expectError(try await client.post("/v1/rpc/ping", headers: without(name), body: body), 401, "missing_request_header")
                expectError(try await client.post("/v1/rpc/ping", headers: good + [(name, good.first { $0.0 == name }!.1)], body: body), 401, "invalid_request_header")
            }
            expectError(try await client.post("/v1/rpc/ping", headers: replacing("x-alfred-rpc-version", "v2"), body: body), 400, "invalid_contract_version")
            expectError(try await client.post("/v1/rpc/ping", headers: replacing("x-alfred-rpc-version", "V1"), body: body), 400, "invalid_contract_version")
            // (Leading and trailing blanks are trimmed by HTTP itself, so " 1" arrives as "1".)
            for ts in ["-1", "1e9", "12345678901234567890", "1 2", "0x10", "abc"] {
                expectError(try await client.post("/v1/rpc/ping", headers: replacing("x-alfred-rpc-ts", ts), body: body), 401, "invalid_request_header")
            }
            for nonce in [String(repeating: "n", count: 129), "has space", "é"] {
                expectError(try await client.post("/v1/rpc/ping", headers: replacing("x-alfred-rpc-nonce", nonce), body: body), 401, "invalid_request_header")
            }
            for signature in [
                "abc", String(repeating: "a", count: 63), String(repeating: "a", count: 65), String(repeating: "g", count: 64),
                String(repeating: "G", count: 64), String(repeating: "@", count: 64), String(repeating: "`", count: 64),
                String(repeating: "/", count: 64), String(repeating: ":", count: 64), String(repeating: "é", count: 32),
            ] {
                expectError(try await client.post("/v1/rpc/ping", headers: replacing("x-alfred-rpc-signature", signature), body: body), 401, "invalid_request_header")
            }
            // Order: the version decides before a malformed timestamp; the timestamp before the nonce.
            expectError(try await client.post("/v1/rpc/ping", headers: replacing("x-alfred-rpc-ts", "x").filter { $0.0 != "x-alfred-rpc-version" }, body: body), 401, "missing_request_header")
            let badBoth = replacing("x-alfred-rpc-ts", "x").filter { $0.0 != "x-alfred-rpc-nonce" }
            #expect((try await client.post("/v1/rpc/ping", headers: badBoth, body: body)).json["error"].map { ($0 as! [String: Any])["message"] as! String }?.contains("ts") == true)
            // Upper-case hex signatures are fine.
            let upper = replacing("x-alfred-rpc-signature", good.first { $0.0 == "x-alfred-rpc-signature" }!.1.uppercased())
            #expect(try await client.post("/v1/rpc/ping", headers: upper, body: body).status == 200)
        }
    }

    @Test("Step 3: body over the limit is 413 payload_too_large, after the headers, before the timestamp")
    func bodyLimit() async throws {
        try await withRuntime(["ENCLAVE_RPC_MAX_BODY_BYTES": "1024"]) { client, clock in
            let big = [UInt8](repeating: 0x20, count: 1025)
            let stale = signedHeaders(path: "/v1/rpc/ping", body: big, timestamp: clock.now - 1000)
            expectError(try await client.post("/v1/rpc/ping", headers: stale, body: big), 413, "payload_too_large")
            let missing = stale.filter { $0.0 != "x-alfred-rpc-nonce" }
            expectError(try await client.post("/v1/rpc/ping", headers: missing, body: big), 401, "missing_request_header")
            // Exactly at the limit passes step 3 (and then fails shape, step 7).
            var exact = Array(#"{"contract_version":"v1","request_id":"r-3","pad":""#.utf8)
            exact += [UInt8](repeating: 0x61, count: 1024 - exact.count - 2) + Array(#""}"#.utf8)
            let result = try await client.post("/v1/rpc/ping", headers: signedHeaders(path: "/v1/rpc/ping", body: exact, timestamp: clock.now), body: exact)
            #expect(result.status == 200)
        }
    }

    @Test("Step 4: timestamps beyond the skew either way; exactly at the skew is accepted")
    func skew() async throws {
        try await withRuntime(["ENCLAVE_RPC_AUTH_MAX_SKEW_SECONDS": "30"]) { client, clock in
            expectError(try await client.signedPost("/v1/rpc/ping", ping, clock: clock, timestampOffset: -31), 401, "invalid_request_timestamp")
            expectError(try await client.signedPost("/v1/rpc/ping", ping, clock: clock, timestampOffset: 31), 401, "invalid_request_timestamp")
            expectError(try await client.signedPost("/v1/rpc/ping", ping, clock: clock, secret: "wrong-secret-0123456789", timestampOffset: 31), 401, "invalid_request_timestamp")
            #expect(try await client.signedPost("/v1/rpc/ping", ping, clock: clock, timestampOffset: -30).status == 200)
            #expect(try await client.signedPost("/v1/rpc/ping", ping, clock: clock, timestampOffset: 30).status == 200)
            let farFuture = signedHeaders(path: "/v1/rpc/ping", body: json(ping), timestamp: Int64.max)
            expectError(try await client.post("/v1/rpc/ping", headers: farFuture, body: json(ping)), 401, "invalid_request_timestamp")
        }
    }

    @Test("Step 5: wrong secret or tampered signed part; rotation accepts the previous secret")
    func signatures() async throws {
        let previous = "previous-secret-0123456789abcdef"
        try await withRuntime(["ENCLAVE_RPC_SHARED_SECRET_PREVIOUS": previous]) { client, clock in
            expectError(try await client.signedPost("/v1/rpc/ping", ping, clock: clock, secret: "unknown-secret-0123456789"), 401, "invalid_request_signature")
            #expect(try await client.signedPost("/v1/rpc/ping", ping, clock: clock, secret: previous).status == 200)
            let body = json(ping)
            let headers = signedHeaders(path: "/v1/rpc/ping", body: body, timestamp: clock.now)
            expectError(try await client.post("/v1/rpc/ping", headers: headers, body: body + [0x20]), 401, "invalid_request_signature")
            // Signed for another path.
            let other = signedHeaders(path: "/v1/rpc/google/token/exchange", body: body, timestamp: clock.now)
            expectError(try await client.post("/v1/rpc/ping", headers: other, body: body), 401, "invalid_request_signature")
        }
    }

    @Test("Step 6: replay refused; nothing recorded before step 6; replay after the window accepted")
    func replay() async throws {
        try await withRuntime(["ENCLAVE_RPC_AUTH_MAX_SKEW_SECONDS": "5"]) { client, clock in
            let nonce = "nonce-\(UUID().uuidString)"
            // A bad signature does not burn the nonce.
            expectError(try await client.signedPost("/v1/rpc/ping", ping, clock: clock, secret: "wrong-secret-0123456789", nonce: nonce), 401, "invalid_request_signature")
            #expect(try await client.signedPost("/v1/rpc/ping", ping, clock: clock, nonce: nonce).status == 200)
            expectError(try await client.signedPost("/v1/rpc/ping", ping, clock: clock, nonce: nonce), 401, "request_replay_detected")
            clock.advance(5)
            expectError(try await client.signedPost("/v1/rpc/ping", ping, clock: clock, nonce: nonce), 401, "request_replay_detected")
            clock.advance(1)
            #expect(try await client.signedPost("/v1/rpc/ping", ping, clock: clock, nonce: nonce).status == 200)
            // A shape error (step 7) comes after recording: the nonce is used.
            let used = "used-\(UUID().uuidString)"
            expectError(try await client.signedPost("/v1/rpc/ping", ["x": 1], clock: clock, nonce: used), 400, "invalid_request_payload")
            expectError(try await client.signedPost("/v1/rpc/ping", ping, clock: clock, nonce: used), 401, "request_replay_detected")
        }
    }

    @Test("replay_cache_full at capacity: 503, retryable, no live nonce evicted")
    func replayCacheFull() async throws {
        try await withRuntime(["ENCLAVE_RPC_REPLAY_CAPACITY": "1000"]) { client, clock in
            for i in 0..<1000 {
                #expect(try await client.signedPost("/v1/rpc/ping", ping, clock: clock, nonce: "fill-\(i)").status == 200)
            }
            expectError(try await client.signedPost("/v1/rpc/ping", ping, clock: clock, nonce: "one-more"), 503, "replay_cache_full")
            expectError(try await client.signedPost("/v1/rpc/ping", ping, clock: clock, nonce: "fill-0"), 401, "request_replay_detected")
            clock.advance(31)
            #expect(try await client.signedPost("/v1/rpc/ping", ping, clock: clock, nonce: "one-more").status == 200)
        }
    }

    @Test("Step 7: shape, then contract_version, then request_id; request_id echoed when known")
    func bodyValidation() async throws {
        try await withRuntime { client, clock in
            let path = "/v1/rpc/google/token/exchange"
            let connector = UUID().uuidString
            let notJSON = Array("not json".utf8)
            expectError(try await client.post(path, headers: signedHeaders(path: path, body: notJSON, timestamp: clock.now), body: notJSON), 400, "invalid_request_payload")
            expectError(try await client.signedPost(path, ["contract_version": "v1", "request_id": "r-9"], clock: clock), 400, "invalid_request_payload", requestID: "r-9")
            expectError(try await client.signedPost(path, connectorBody(user: "not-a-uuid", connector: connector, requestID: "r-8"), clock: clock), 400, "invalid_request_payload", requestID: "r-8")
            // 36 bytes that Foundation's sscanf-based UUID parser takes on Linux, but no UUID.
            for sloppy in [" " + connector.dropFirst(), "+" + connector.dropFirst(), connector.prefix(14) + "0x" + connector.dropFirst(16)] {
                expectError(try await client.signedPost(path, connectorBody(connector: String(sloppy), requestID: "r-6"), clock: clock), 400, "invalid_request_payload", requestID: "r-6")
            }
            var wrongVersion = connectorBody(connector: connector, requestID: "r-7")
            wrongVersion["contract_version"] = "v2"
            expectError(try await client.signedPost(path, wrongVersion, clock: clock), 400, "invalid_contract_version", requestID: "r-7")
            expectError(try await client.signedPost(path, connectorBody(connector: connector, requestID: ""), clock: clock), 400, "invalid_request_id")
            expectError(try await client.signedPost("/v1/rpc/ping", ["contract_version": "v1", "request_id": 5], clock: clock), 400, "invalid_request_payload")
            // The strict reader: a duplicate key is a shape error; request_id is not echoed from it.
            let duplicate = Array(#"{"contract_version":"v1","request_id":"r-4","request_id":"r-5"}"#.utf8)
            expectError(try await client.post("/v1/rpc/ping", headers: signedHeaders(path: "/v1/rpc/ping", body: duplicate, timestamp: clock.now), body: duplicate), 400, "invalid_request_payload")
            let register = "/v1/rpc/google/connector/register"
            expectError(try await client.signedPost(register, ["contract_version": "v1", "request_id": "r-2", "user_id": userA, "authorization_code": "", "redirect_uri": "https://app.example/cb"], clock: clock), 400, "invalid_request_payload", requestID: "r-2")
            expectError(try await client.signedPost(register, ["contract_version": "v1", "request_id": "r-3", "user_id": "\t" + userA.dropFirst(), "authorization_code": "c", "redirect_uri": "https://app.example/cb"], clock: clock), 400, "invalid_request_payload", requestID: "r-3")
        }
    }

    @Test("Local without OAuth client: provider_not_configured before any connector lookup")
    func providerNotConfigured() async throws {
        try await withRuntime { client, clock in
            for path in ["/v1/rpc/google/token/exchange", "/v1/rpc/google/token/revoke"] {
                expectError(try await client.signedPost(path, connectorBody(connector: UUID().uuidString, requestID: "r-5"), clock: clock), 503, "provider_not_configured", requestID: "r-5")
            }
            let register: [String: Any] = ["contract_version": "v1", "request_id": "r-6", "user_id": userA, "authorization_code": "c", "redirect_uri": "https://app.example/cb"]
            expectError(try await client.signedPost("/v1/rpc/google/connector/register", register, clock: clock), 503, "provider_not_configured", requestID: "r-6")
        }
    }

    @Test("Connector errors: unknown, foreign, key policy mismatch, unopenable record, unreachable provider")
    func connectorErrors() async throws {
        let state = temporaryDirectory()
        let port = try freePort()  // nothing listens there
        let provider = [
            "GOOGLE_OAUTH_CLIENT_ID": "c", "GOOGLE_OAUTH_CLIENT_SECRET": "s", "GOOGLE_OAUTH_TOKEN_URL": "http://127.0.0.1:\(port)/token",
            "GOOGLE_OAUTH_REVOKE_URL": "http://127.0.0.1:\(port)/revoke", "ENCLAVE_PROVIDER_TIMEOUT_MS": "500",
        ]
        // Records sealed by this process: one under the current policy, one under version 2, one
        // under another data key.
        let dataKey = try DataKey.resolve(configured: nil, stateDirectory: state)
        let store = try SQLiteConnectorStore(directory: state)
        let policy = KeyPolicy(keyID: "kms/local/alfred-refresh-token", keyVersion: 1)
        let good = UUID().uuidString.lowercased(), versionTwo = UUID().uuidString.lowercased(), otherKey = UUID().uuidString.lowercased()
        for (id, vault) in [
            (good, TokenVault(sealer: try Sealer(key: dataKey), policy: policy)),
            (versionTwo, TokenVault(sealer: try Sealer(key: dataKey), policy: KeyPolicy(keyID: policy.keyID, keyVersion: 2))),
            (otherKey, TokenVault(sealer: try Sealer(key: try SecureRandom.bytes(32)), policy: policy)),
        ] {
            try await insertSealedConnector(id, vault: vault, into: store)
        }
        try await withRuntime(provider, stateDirectory: state) { client, clock in
            let exchange = "/v1/rpc/google/token/exchange", revoke = "/v1/rpc/google/token/revoke"
            for path in [exchange, revoke] {
                expectError(try await client.signedPost(path, connectorBody(connector: UUID().uuidString, requestID: "r-1"), clock: clock), 400, "connector_token_unavailable", requestID: "r-1")
                expectError(try await client.signedPost(path, connectorBody(user: userB, connector: good, requestID: "r-1"), clock: clock), 400, "connector_token_unavailable", requestID: "r-1")
                expectError(try await client.signedPost(path, connectorBody(connector: versionTwo, requestID: "r-1"), clock: clock), 403, "decrypt_not_authorized", requestID: "r-1")
                expectError(try await client.signedPost(path, connectorBody(connector: otherKey, requestID: "r-1"), clock: clock), 500, "connector_token_decrypt_failed", requestID: "r-1")
                expectError(try await client.signedPost(path, connectorBody(connector: good.uppercased(), requestID: "r-1"), clock: clock), 502, "provider_unavailable", requestID: "r-1")
            }
            // A store that can no longer be read is an internal error (500, retryable), never a crash.
            let sabotage = try DatabaseQueue(path: state + "/connectors.sqlite")
            try await sabotage.write { db in try db.execute(sql: "DROP TABLE connectors") }
            expectError(try await client.signedPost(exchange, connectorBody(connector: good, requestID: "r-1"), clock: clock), 500, "rpc_internal_error", requestID: "r-1")
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
        }
    }

    @Test("Challenge: valid evidence verifies; every refusal is 400 attestation_challenge_failed; over 16 KiB is 413")
    func challenge() async throws {
        try await withRuntime(["TEE_ATTESTATION_MAX_AGE_SECONDS": "300"]) { client, clock in
            let document = parseJSON(Array(try await client.execute(uri: "/v1/attestation/document", method: .get).body.readableBytesView))
            let publicKey = [UInt8](Data(base64Encoded: document["public_key"] as! String)!)
            let t = Int(clock.now)
            let valid: [String: Any] = ["challenge_nonce": "n-1", "issued_at": t, "expires_at": t + 300, "operation_purpose": "decrypt", "request_id": "r"]
            let ok = try await client.post("/v1/attestation/challenge", headers: [], body: json(valid))
            #expect(ok.status == 200)
            let e = ok.json
            for (key, value) in valid { #expect("\(e[key]!)" == "\(value)", "\(key) echoed") }
            #expect(e["evidence_issued_at"] as? Int == t && e["runtime"] as? String == "nitro")
            let payload = try ChallengeEvidenceFields(
                runtime: "nitro", measurement: "dev-local-enclave", challengeNonce: "n-1", issuedAt: Int64(t), expiresAt: Int64(t + 300),
                operationPurpose: "decrypt", requestID: "r", evidenceIssuedAt: Int64(t)).canonicalPayload()
            #expect(Ed25519.verify(publicKey: publicKey, message: payload, signature: [UInt8](Data(base64Encoded: e["signature"] as! String)!)))

            func refused(_ change: [String: Any?], sourceLocation: SourceLocation = #_sourceLocation) async throws {
                var body = valid
                for (key, value) in change { body[key] = value }
                let result = try await client.post("/v1/attestation/challenge", headers: [], body: json(body))
                #expect(result.status == 400 && result.json["code"] as? String == "attestation_challenge_failed", sourceLocation: sourceLocation)
                #expect((result.json["message"] as? String)?.isEmpty == false, sourceLocation: sourceLocation)
            }
            try await refused(["challenge_nonce": nil])
            try await refused(["issued_at": "soon"])
            try await refused(["challenge_nonce": ""])
            try await refused(["request_id": ""])
            try await refused(["operation_purpose": ""])
            for field in ["challenge_nonce", "request_id", "operation_purpose"] {
                try await refused([field: "a|b"])
                try await refused([field: "a\nb"])
                try await refused([field: "a\u{7f}"])
                // C1 controls and the Unicode line and paragraph separators are control characters too.
                for control in ["\u{80}", "\u{85}", "\u{9f}", "\u{2028}", "\u{2029}"] { try await refused([field: "a\(control)b"]) }
            }
            // Evidence must not predate its challenge: issued_at at most the skew (30 s) in the future.
            try await refused(["issued_at": t + 31, "expires_at": t + 60])
            try await refused(["issued_at": t + 365 * 86400, "expires_at": t + 365 * 86400 + 60])
            #expect(try await client.post("/v1/attestation/challenge", headers: [], body: json(valid.merging(["issued_at": t + 30]) { $1 })).status == 200)
            #expect(try await client.post("/v1/attestation/challenge", headers: [], body: json(valid.merging(["challenge_nonce": "é\u{a0}"]) { $1 })).status == 200)
            try await refused(["challenge_nonce": String(repeating: "n", count: 257)])
            try await refused(["request_id": String(repeating: "r", count: 129)])
            try await refused(["operation_purpose": String(repeating: "p", count: 65)])
            try await refused(["expires_at": t])
            try await refused(["issued_at": t - 400, "expires_at": t - 1])
            try await refused(["expires_at": t + 301])
            let edge: [String: Any] = valid.merging(["challenge_nonce": String(repeating: "n", count: 256), "request_id": String(repeating: "r", count: 128), "operation_purpose": String(repeating: "p", count: 64), "expires_at": t]) { $1 }
            var edgeOK = edge
            edgeOK["issued_at"] = t - 300
            #expect(try await client.post("/v1/attestation/challenge", headers: [], body: json(edgeOK)).status == 200)
            let notJSON = try await client.post("/v1/attestation/challenge", headers: [], body: Array("{".utf8))
            #expect(notJSON.status == 400 && notJSON.json["code"] as? String == "attestation_challenge_failed")
            // The strict reader: a duplicate key, a fractional timestamp, a lone surrogate.
            for text in [
                #"{"challenge_nonce":"n","challenge_nonce":"m","issued_at":\#(t),"expires_at":\#(t + 60),"operation_purpose":"decrypt","request_id":"r"}"#,
                #"{"challenge_nonce":"n","issued_at":\#(t).0,"expires_at":\#(t + 60),"operation_purpose":"decrypt","request_id":"r"}"#,
                #"{"challenge_nonce":"\ud800","issued_at":\#(t),"expires_at":\#(t + 60),"operation_purpose":"decrypt","request_id":"r"}"#,
            ] {
                let strict = try await client.post("/v1/attestation/challenge", headers: [], body: Array(text.utf8))
                #expect(strict.status == 400 && strict.json["code"] as? String == "attestation_challenge_failed", "\(text)")
            }
            let huge = try await client.post("/v1/attestation/challenge", headers: [], body: [UInt8](repeating: 0x20, count: 16 * 1024 + 1))
            #expect(huge.status == 413 && huge.json["code"] as? String == "payload_too_large")
        }
    }
}
