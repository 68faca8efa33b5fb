import EnclaveConfiguration
import EnclaveContract
import EnclaveCrypto
@testable import EnclaveRuntime
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import TestSupport

/// docs/contract.md §2a: the enclave signs every answer to an authentic request, and the ping
/// binds the attested key to the request.
@Suite("Authenticated answers: response signatures and the ping binding")
struct AuthenticatedAnswerTests {
    static let responseSignature = HTTPField.Name(RPCHeader.responseSignature)!

    /// Sends a signed request and returns the answer with the request signature it was sent with.
    func send(
        _ client: any TestClientProtocol, _ path: String, _ body: [UInt8], clock: TestClock,
        secret: String = SharedSettings.localSharedSecret, nonce: String = UUID().uuidString, timestampOffset: Int64 = 0
    ) async throws -> (status: Int, body: [UInt8], headers: HTTPFields, requestSignature: String) {
        let headers = signedHeaders(path: path, body: body, secret: secret, timestamp: clock.now + timestampOffset, nonce: nonce)
        let signature = headers.first { $0.0 == RPCHeader.signature }!.1
        var fields = HTTPFields()
        for (name, value) in headers { fields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
        let response = try await client.execute(uri: path, method: .post, headers: fields, body: .init(bytes: body))
        return (Int(response.status.code), Array(response.body.readableBytesView), response.headers, signature)
    }

    func verifies(
        _ answer: (status: Int, body: [UInt8], headers: HTTPFields, requestSignature: String), secret: String = SharedSettings.localSharedSecret
    ) -> Bool {
        let values = answer.headers[values: Self.responseSignature]
        guard values.count == 1 else { return false }
        return try! RPCSigner(secret: secret).verifiesResponse(
            requestSignature: answer.requestSignature, status: answer.status, body: answer.body, responseSignature: values[0])
    }

    @Test("Every answer from step 6 on is signed over request signature, status and exact body; earlier refusals are not")
    func signedAnswers() async throws {
        let previous = "previous-secret-0123456789abcdef"
        try await withRuntime(["ENCLAVE_RPC_SHARED_SECRET_PREVIOUS": previous]) { client, clock in
            let body = json(ping)
            let ok = try await send(client, "/v1/rpc/ping", body, clock: clock)
            #expect(ok.status == 200 && (verifies(ok)))
            // Not under another secret, not for another status or body, not for another request.
            #expect(!(verifies(ok, secret: previous)))
            var altered = ok
            altered.status = 201
            #expect(!(verifies(altered)))
            altered = ok
            altered.body[altered.body.count - 2] ^= 1
            #expect(!(verifies(altered)))
            altered = ok
            altered.requestSignature = String(repeating: "0", count: 64)
            #expect(!(verifies(altered)))
            // Rotation: an answer is signed with the secret that verified the request.
            let rotated = try await send(client, "/v1/rpc/ping", body, clock: clock, secret: previous)
            #expect(rotated.status == 200 && (verifies(rotated, secret: previous)) && !(verifies(rotated)))

            // Step 6 and later: signed.
            let nonce = "replayed-\(UUID().uuidString)"
            _ = try await send(client, "/v1/rpc/ping", body, clock: clock, nonce: nonce)
            let replay = try await send(client, "/v1/rpc/ping", body, clock: clock, nonce: nonce)
            #expect(replay.status == 401 && errorCode(parseJSON(replay.body)) == "request_replay_detected" && (verifies(replay)))
            let shape = try await send(client, "/v1/rpc/ping", Array(#"{"request_id":"r"}"#.utf8), clock: clock)
            #expect(shape.status == 400 && (verifies(shape)))
            let unconfigured = try await send(client, "/v1/rpc/google/token/exchange", json(connectorBody(connector: userB)), clock: clock)
            #expect(unconfigured.status == 503 && errorCode(parseJSON(unconfigured.body)) == "provider_not_configured" && (verifies(unconfigured)))

            // Steps 1 to 5: no authentic request, no response signature.
            let wrongSecret = try await send(client, "/v1/rpc/ping", body, clock: clock, secret: "unknown-secret-0123456789")
            let stale = try await send(client, "/v1/rpc/ping", body, clock: clock, timestampOffset: -1000)
            for refused in [wrongSecret, stale] {
                #expect(refused.status == 401 && refused.headers[values: Self.responseSignature].isEmpty)
            }
            let missing = try await client.post("/v1/rpc/ping", headers: [("content-type", "application/json")], body: body)
            #expect(missing.status == 401 && missing.headers[values: Self.responseSignature].isEmpty)
            let unknown = try await client.post("/v1/rpc/unknown", headers: [], body: body)
            #expect(unknown.status == 404 && unknown.headers[values: Self.responseSignature].isEmpty)
        }
    }

    @Test("The ping's binding is the evidence key's Ed25519 signature over v1-ping, request id and request signature")
    func pingBinding() async throws {
        try await withRuntime { client, clock in
            let document = parseJSON(Array(try await client.execute(uri: "/v1/attestation/document", method: .get).body.readableBytesView))
            let keyText = try #require(document["public_key"] as? String)
            let key = [UInt8](try #require(Data(base64Encoded: keyText)))
            let answer = try await send(client, "/v1/rpc/ping", json(ping), clock: clock)
            let bindingText = try #require(parseJSON(answer.body)["binding"] as? String)
            let binding = [UInt8](try #require(Data(base64Encoded: bindingText)))
            let message = try PingBinding.message(requestID: "r-3", requestSignature: answer.requestSignature)
            #expect(message == Array("v1-ping\0r-3\0".utf8) + Array(answer.requestSignature.lowercased().utf8))
            #expect(Ed25519.verify(publicKey: key, message: message, signature: binding))
            // Bound to this request: not to another request id or signature.
            #expect(!Ed25519.verify(publicKey: key, message: try PingBinding.message(requestID: "r-4", requestSignature: answer.requestSignature), signature: binding))
            let other = try await send(client, "/v1/rpc/ping", json(ping), clock: clock)
            #expect(!Ed25519.verify(publicKey: key, message: try PingBinding.message(requestID: "r-3", requestSignature: other.requestSignature), signature: binding))
        }
    }
}
