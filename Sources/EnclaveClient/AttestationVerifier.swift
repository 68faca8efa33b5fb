import AsyncHTTPClient
import EnclaveConfiguration
import EnclaveContract
import EnclaveCrypto
import EnclaveHTTP
import EnclaveJSON
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

public struct VerifiedAttestation: Sendable, Equatable {
    public var runtime: String
    public var measurement: String
    public var verifiedAt: Int64
    /// The Ed25519 key the evidence verified with; nil only when insecure dev attestation skipped
    /// that check. The ping's binding must verify with the same key.
    public var evidenceKey: [UInt8]?
    /// Checks skipped under insecure dev attestation (local only), said loudly at startup.
    public var skipped: [String]
}

/// Verifies the enclave's attestation: its document, then fresh challenge-bound evidence
/// (docs/contract.md §3 and §4), against the pinned public key and the allowed measurements;
/// and when the enclave serves an AWS Nitro document (section 3a), that document: it must verify
/// to the pinned root, satisfy the PCR policy, and vouch for the key the evidence verifies with.
public final class AttestationVerifier: Sendable {
    private let baseURL: String
    private let settings: SharedSettings
    private let documents: AttestationDocumentPolicy
    private let transport: EnclaveTransport
    private let timeout: Duration
    private let now: @Sendable () -> Int64
    /// Challenge nonces issued and not yet answered; each is accepted once at most.
    private let pending = Mutex<Set<String>>([])

    /// `httpClient` should follow no redirect (`BoundedCall.makeClient`).
    public convenience init(
        configuration: EnclaveClientConfiguration, httpClient: HTTPClient,
        now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    ) throws(NitroError) {
        try self.init(configuration: configuration, transport: .plain(httpClient), now: now)
    }

    public init(
        configuration: EnclaveClientConfiguration, transport: EnclaveTransport,
        now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    ) throws(NitroError) {
        let url = configuration.baseURL.absoluteString
        baseURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        settings = configuration.shared
        documents = try AttestationDocumentPolicy(configuration: configuration, now: now)
        self.transport = transport
        timeout = .milliseconds(configuration.probeTimeoutMilliseconds)
        self.now = now
    }

    public func verify(purpose: String = "host-attestation") async throws(EnclaveCheckFailure) -> VerifiedAttestation {
        let (document, _) = try await get("/v1/attestation/document", as: AttestationDocumentBody.self)
        let checked = try documents.check(document)
        var key = checked.key
        let (nitroDocument, skipped) = (checked.nitroDocument, checked.skipped)
        // A fresh challenge.
        let nonce = (try? SecureRandom.bytes(16))?.map { String(format: "%02x", $0) }.joined() ?? UUID().uuidString
        let requestID = UUID().uuidString.lowercased()
        let issuedAt = now()
        let expiresAt = issuedAt + Int64(min(60, settings.attestationMaxAgeSeconds))
        pending.withLock { _ = $0.insert(nonce) }
        let challenge = ChallengeRequest(
            challengeNonce: nonce, issuedAt: issuedAt, expiresAt: expiresAt, operationPurpose: purpose, requestID: requestID)
        let answer: ChallengeResponse?
        let channelKey: [UInt8]?
        do {
            (answer, channelKey) = try await post("/v1/attestation/challenge", challenge, as: ChallengeResponse.self)
        } catch {
            pending.withLock { _ = $0.remove(nonce) }
            throw error
        }
        // With attested TLS the evidence must verify with the key of the connection that carried
        // it (its document was checked in the handshake): the challenge may reach another replica
        // than the document did (docs/contract.md §2b).
        if let channelKey { key = channelKey }
        return try judge(
            answer, nonce: nonce, requestID: requestID, issuedAt: issuedAt, expiresAt: expiresAt, purpose: purpose, key: key,
            nitroDocument: nitroDocument, viaChannel: channelKey != nil, skipped: skipped)
    }

    /// The challenge's answer, judged: echoes, freshness, identity, the carried document, the signature.
    private func judge(
        _ answer: ChallengeResponse?, nonce: String, requestID: String, issuedAt: Int64, expiresAt: Int64, purpose: String,
        key: [UInt8]?, nitroDocument: String?, viaChannel: Bool, skipped: [String]
    ) throws(EnclaveCheckFailure) -> VerifiedAttestation {
        let echoedNonce = answer?.challengeNonce ?? ""
        // Consumed whatever the outcome: a nonce is never accepted twice.
        let wasPending = pending.withLock { $0.remove(echoedNonce) != nil }
        pending.withLock { _ = $0.remove(nonce) }
        guard let evidence = answer else { throw EnclaveCheckFailure(.evidenceInvalid, "the evidence is not the contract's shape") }
        guard wasPending, echoedNonce == nonce else { throw EnclaveCheckFailure(.evidenceInvalid, "the evidence echoes another challenge nonce") }
        guard evidence.issuedAt == issuedAt, evidence.expiresAt == expiresAt, evidence.operationPurpose == purpose,
            evidence.requestID == requestID
        else { throw EnclaveCheckFailure(.evidenceInvalid, "the evidence does not echo the challenge") }
        let evidenceRuntime = evidence.runtime, evidenceMeasurement = evidence.measurement
        guard evidenceRuntime.lowercased() == settings.expectedRuntime.lowercased() else {
            throw EnclaveCheckFailure(.evidenceInvalid, "the evidence's runtime is not TEE_EXPECTED_RUNTIME")
        }
        guard settings.allowedMeasurements.contains(evidenceMeasurement) else {
            throw EnclaveCheckFailure(.measurementNotAllowed, "the evidence's measurement is not allowed")
        }
        let evidenceIssuedAt = evidence.evidenceIssuedAt
        let skew = Int64(settings.maxSkewSeconds)
        guard evidenceIssuedAt >= issuedAt - skew, evidenceIssuedAt <= expiresAt, abs(now() - evidenceIssuedAt) <= skew else {
            throw EnclaveCheckFailure(.evidenceInvalid, "evidence_issued_at is outside the challenge window or stale")
        }
        // A challenge answer carries the latest Nitro document: it must vouch for the same key.
        if let carried = evidence.attestationDocument, carried != nitroDocument {
            guard nitroDocument != nil || viaChannel, try documents.checkNitro(carried, measurement: evidenceMeasurement) == key else {
                throw EnclaveCheckFailure(.attestationDocumentInvalid, "the challenge answer carries a document for another key")
            }
        }
        if let key {
            let fields = ChallengeEvidenceFields(
                runtime: evidenceRuntime, measurement: evidenceMeasurement, challengeNonce: echoedNonce, issuedAt: issuedAt,
                expiresAt: expiresAt, operationPurpose: purpose, requestID: requestID, evidenceIssuedAt: evidenceIssuedAt)
            guard let payload = try? fields.canonicalPayload(),
                let signature = Data(base64Encoded: evidence.signature),
                Ed25519.verify(publicKey: key, message: payload, signature: [UInt8](signature))
            else { throw EnclaveCheckFailure(.signatureInvalid, "the evidence signature does not verify") }
        }
        return VerifiedAttestation(
            runtime: evidenceRuntime, measurement: evidenceMeasurement, verifiedAt: now(), evidenceKey: key, skipped: skipped)
    }

    /// The decoded answer (nil when it is JSON of another shape) and the connection's key (attested TLS).
    private func get<Body: WireBody>(_ path: String, as: Body.Type) async throws(EnclaveCheckFailure) -> (Body?, [UInt8]?) {
        let (json, key) = try await send(.GET, path, body: nil)
        return (Body(json: json), key)
    }

    private func post<Body: WireBody>(
        _ path: String, _ body: some WireBody, as: Body.Type
    ) async throws(EnclaveCheckFailure) -> (Body?, [UInt8]?) {
        let (json, key) = try await send(.POST, path, body: body.jsonBytes)
        return (Body(json: json), key)
    }

    private func send(_ method: HTTPMethod, _ path: String, body: [UInt8]?) async throws(EnclaveCheckFailure) -> (JSONValue, [UInt8]?) {
        let status: Int
        let answered: ByteBuffer
        let channelKey: [UInt8]?
        do {
            let (answer, key) = try await transport.send(
                method, baseURL + path, headers: body == nil ? [:] : ["content-type": "application/json"], body: body, timeout: timeout,
                maxBodyBytes: 1 << 20)
            (status, answered, channelKey) = (answer.status, answer.body, key)
        } catch {
            if case .notAttested(let detail) = error { throw EnclaveCheckFailure(.channelNotAttested, detail) }
            throw EnclaveCheckFailure(.unreachable, "no answer from \(path)")
        }
        guard status == 200 else { throw EnclaveCheckFailure(.badStatus, "\(path) answered \(status)") }
        guard let object = JSONValue(parsing: Array(answered.readableBytesView)), case .object = object else {
            throw EnclaveCheckFailure(path.hasSuffix("document") ? .badDocument : .evidenceInvalid, "\(path) answered something other than a JSON object")
        }
        return (object, channelKey)
    }
}
