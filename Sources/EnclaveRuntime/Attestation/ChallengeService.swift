import EnclaveContract
import EnclaveCrypto
import EnclaveJSON
import Foundation

/// Answers attestation challenges (docs/contract.md §4) with evidence signed by the C core,
/// carrying the latest NSM document when the runtime attests through the NSM (section 3a).
public struct ChallengeService: Sendable {
    let state: AttestationState
    let signer: ChallengeSigner
    let maxAgeSeconds: Int64
    /// How far ahead of this clock a challenge's `issued_at` may be (the RPC skew).
    let maxSkewSeconds: Int64
    let now: @Sendable () -> Int64
    /// The clock the document's age is judged by, in milliseconds.
    let nowMilliseconds: @Sendable () -> Int64

    static let maxBodyBytes = 16 * 1024

    /// For a fixed document (dev-shim and static remote).
    public init(
        document: AttestationDocument, signer: ChallengeSigner, maxAgeSeconds: Int64, maxSkewSeconds: Int64,
        now: @escaping @Sendable () -> Int64
    ) {
        self.init(state: AttestationState(document.snapshot, maxAgeSeconds: nil), signer: signer, maxAgeSeconds: maxAgeSeconds,
                  maxSkewSeconds: maxSkewSeconds, now: now)
    }

    init(
        state: AttestationState, signer: ChallengeSigner, maxAgeSeconds: Int64, maxSkewSeconds: Int64, now: @escaping @Sendable () -> Int64,
        nowMilliseconds: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    ) {
        self.state = state
        self.signer = signer
        self.maxAgeSeconds = maxAgeSeconds
        self.maxSkewSeconds = maxSkewSeconds
        self.now = now
        self.nowMilliseconds = nowMilliseconds
    }

    /// The handler's whole work for a challenge body: the evidence as JSON, or the refusal reason.
    public func answer(_ body: [UInt8]) -> Result<[UInt8], ChallengeRefusal> {
        evidence(for: body).map(\.jsonBytes)
    }

    /// The evidence for a challenge body, or the reason it is refused (all map to 400
    /// `attestation_challenge_failed`; the reason is safe to show).
    func evidence(for body: [UInt8]) -> Result<ChallengeResponse, ChallengeRefusal> {
        guard let request = JSONValue(parsing: body).flatMap(ChallengeRequest.init(json:)) else {
            return .failure(.init("malformed JSON or missing fields"))
        }
        let texts = [
            ("challenge_nonce", request.challengeNonce, 256), ("request_id", request.requestID, 128),
            ("operation_purpose", request.operationPurpose, 64),
        ]
        for (name, value, limit) in texts {
            if value.isEmpty { return .failure(.init("\(name) is empty")) }
            if value.utf8.count > limit { return .failure(.init("\(name) is longer than \(limit) bytes")) }
            if !EvidenceText.isValid(value) { return .failure(.init("\(name) holds '|' or a control character")) }
        }
        guard request.expiresAt > request.issuedAt else { return .failure(.init("expires_at must be after issued_at")) }
        let now = now()
        guard now <= request.expiresAt else { return .failure(.init("the challenge has expired")) }
        // Evidence must not predate its challenge: a challenge from the future is refused.
        guard request.issuedAt <= now || request.issuedAt - now <= maxSkewSeconds else {
            return .failure(.init("issued_at is further in the future than the allowed clock skew"))
        }
        // Subtraction cannot overflow: expires_at > issued_at was checked, but both may be extreme.
        let (span, overflow) = request.expiresAt.subtractingReportingOverflow(request.issuedAt)
        guard !overflow, span <= maxAgeSeconds else {
            return .failure(.init("expires_at - issued_at exceeds TEE_ATTESTATION_MAX_AGE_SECONDS"))
        }

        // Evidence only under a document young enough: never stale attestation.
        guard let snapshot = state.usable(atMilliseconds: nowMilliseconds()) else {
            return .failure(.init("no attestation document younger than TEE_ATTESTATION_MAX_AGE_SECONDS", unavailable: true))
        }
        let identity = snapshot.identity
        let fields = ChallengeEvidenceFields(
            runtime: identity.runtime, measurement: identity.measurement, challengeNonce: request.challengeNonce,
            issuedAt: request.issuedAt, expiresAt: request.expiresAt, operationPurpose: request.operationPurpose,
            requestID: request.requestID, evidenceIssuedAt: now)
        guard let payload = try? fields.canonicalPayload(), let signature = try? signer.sign(payload) else {
            return .failure(.init("evidence could not be built"))
        }
        return .success(
            ChallengeResponse(
                evidence: fields, signature: Data(signature).base64EncodedString(), attestationDocument: snapshot.attestationDocument))
    }
}

public struct ChallengeRefusal: Error {
    public let reason: String
    /// No attestation document is young enough (503 `attestation_unavailable`), rather than a bad challenge (400).
    public let unavailable: Bool
    init(_ reason: String, unavailable: Bool = false) {
        self.reason = reason
        self.unavailable = unavailable
    }
}
