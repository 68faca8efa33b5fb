import EnclaveContract
import EnclaveJSON
import Testing

/// Every body of the protocol module reads back what it writes, and the decoders refuse what
/// the contract's shapes do not allow.
@Suite("Wire bodies: one encoder and one decoder per body")
struct WireBodyTests {
    static let identity = AttestedIdentity(runtime: "nitro", measurement: "dev-local-enclave")
    static let connector = ConnectorReference(userID: "6f1c1f2e-8f55-4d0e-9a53-1e5f0a9b7c11", connectorID: "0a1b2c3d-8f55-4d0e-9a53-1e5f0a9b7c11")

    func roundTrip<Body: WireBody>(_ body: Body) throws -> Body {
        let bytes = body.jsonBytes
        let decoded = try #require(Body(jsonBytes: bytes), "\(Body.self) reads back \(String(decoding: bytes, as: UTF8.self))")
        #expect(decoded.jsonBytes == bytes, "\(Body.self) writes the same bytes again")
        return decoded
    }

    @Test("Requests and answers of the signed RPCs")
    func rpcBodies() throws {
        #expect(try roundTrip(PingRPCRequest(requestID: "r-1")).requestID == "r-1")
        #expect(try roundTrip(ConnectorRPCRequest(requestID: "r-2", connector: Self.connector)).connector == Self.connector)
        let register = try roundTrip(RegisterRPCRequest(
            requestID: "r-3", userID: Self.connector.userID, authorizationCode: "code", redirectURI: "https://a/cb", codeVerifier: nil))
        #expect(register.codeVerifier == nil && register.authorizationCode == "code")
        let ping = try roundTrip(PingResponse(requestID: "r-1", attestedIdentity: Self.identity, binding: Array(repeating: 7, count: 64)))
        #expect(ping.binding == Array(repeating: 7, count: 64) && ping.attestedIdentity == Self.identity)
        let exchange = try roundTrip(ExchangeResponse(requestID: "r-2", accessToken: "at", expiresIn: 3599, scope: nil, attestedIdentity: Self.identity))
        #expect(exchange.expiresIn == 3599 && exchange.scope == nil)
        _ = try roundTrip(AcknowledgementResponse(requestID: "r-2", attestedIdentity: Self.identity))
        let registered = try roundTrip(RegisterResponse(
            requestID: "r-3", connector: Self.connector, scope: "email", accessToken: "at", expiresIn: nil, attestedIdentity: Self.identity))
        #expect(registered.connector == Self.connector && registered.scope == "email")
    }

    @Test("The error envelope: request_id null before step 7, provider fields only with provider_failed")
    func errorEnvelope() throws {
        let early = try roundTrip(ErrorEnvelope(requestID: nil, error: RPCError(.invalidRequestSignature, "m", providerStatus: 500)))
        #expect(early.requestID == nil && early.providerStatus == nil && early.code == "invalid_request_signature" && !early.retryable)
        #expect(String(decoding: early.jsonBytes, as: UTF8.self).contains(#""request_id":null"#))
        let provider = try roundTrip(ErrorEnvelope(requestID: "r", error: RPCError(.providerFailed, "m", providerStatus: 503, oauthError: "x")))
        #expect(provider.providerStatus == 503 && provider.oauthError == "x" && provider.retryable)
        #expect(ErrorEnvelope(jsonBytes: Array(#"{"request_id":"r","error":{"code":"c","message":"m"}}"#.utf8)) == nil, "retryable is required")
    }

    @Test("The unsigned endpoints' bodies")
    func plainBodies() throws {
        _ = try roundTrip(HealthResponse(environment: "local", mode: "dev-shim", store: "sqlite", storeReachable: true))
        _ = try roundTrip(PlainError(.attestationChallengeFailed, message: "m"))
        #expect(PlainErrorCode.allCases.map(\.status) == [404, 405, 413, 400, 503, 500])
        let challenge = try roundTrip(ChallengeRequest(challengeNonce: "n", issuedAt: 1, expiresAt: 61, operationPurpose: "p", requestID: "r"))
        let evidence = try roundTrip(ChallengeResponse(
            evidence: ChallengeEvidenceFields(
                runtime: "nitro", measurement: "m", challengeNonce: challenge.challengeNonce, issuedAt: 1, expiresAt: 61,
                operationPurpose: "p", requestID: "r", evidenceIssuedAt: 2),
            signature: "c2ln", attestationDocument: nil))
        #expect(evidence.evidenceIssuedAt == 2)
        let document = try roundTrip(AttestationDocumentBody(
            runtime: "nitro", measurement: "m", issuedAt: 1, devShim: true, publicKey: "a2V5"))
        #expect(document.format == nil && document.devShim == true)
    }

    @Test("Decoders refuse a wrong type, a missing field and a bad optional")
    func refusals() {
        for text in [
            #"{"contract_version":"v1"}"#, #"{"contract_version":1,"request_id":"r"}"#, #"["contract_version","v1"]"#, "",
        ] {
            #expect(PingRPCRequest(jsonBytes: Array(text.utf8)) == nil, "\(text)")
        }
        let base = #"{"contract_version":"v1","request_id":"r","user_id":"u","authorization_code":"c","redirect_uri":"x""#
        #expect(RegisterRPCRequest(jsonBytes: Array((base + #","code_verifier":null}"#).utf8))?.codeVerifier == nil)
        #expect(RegisterRPCRequest(jsonBytes: Array((base + #","code_verifier":"v"}"#).utf8))?.codeVerifier == "v")
        #expect(RegisterRPCRequest(jsonBytes: Array((base + #","code_verifier":5}"#).utf8)) == nil)
        let answer = #"{"request_id":"r","access_token":"t","attested_identity":{"runtime":"nitro","measurement":"m"}"#
        #expect(ExchangeResponse(jsonBytes: Array((answer + #","expires_in":"60"}"#).utf8)) == nil)
        #expect(ExchangeResponse(jsonBytes: Array((answer + "}").utf8))?.expiresIn == nil)
        #expect(PingResponse(jsonBytes: Array(#"{"request_id":"r","attested_identity":{"runtime":"nitro","measurement":"m"},"binding":"*"}"#.utf8)) == nil)
    }
}
