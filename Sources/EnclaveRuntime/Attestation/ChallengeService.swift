import EnclaveCrypto
import EnclaveJSON
import Foundation

/// Answers attestation challenges (CONTRACT.md section 4) with evidence signed by the C core.
public struct ChallengeService: Sendable {
    let document: AttestationDocument
    let signer: ChallengeSigner
    let maxAgeSeconds: Int64
    let now: @Sendable () -> Int64

    static let maxBodyBytes = 16 * 1024

    public init(document: AttestationDocument, signer: ChallengeSigner, maxAgeSeconds: Int64, now: @escaping @Sendable () -> Int64) {
        self.document = document
        self.signer = signer
        self.maxAgeSeconds = maxAgeSeconds
        self.now = now
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
            if value.utf8.contains(where: { $0 == UInt8(ascii: "|") || $0 < 0x20 || $0 == 0x7f }) {
                return .failure(.init("\(name) holds '|' or a control character"))
            }
        }
        guard request.expiresAt > request.issuedAt else { return .failure(.init("expires_at must be after issued_at")) }
        let now = now()
        guard now <= request.expiresAt else { return .failure(.init("the challenge has expired")) }
        // Subtraction cannot overflow: expires_at > issued_at was checked, but both may be extreme.
        let (span, overflow) = request.expiresAt.subtractingReportingOverflow(request.issuedAt)
        guard !overflow, span <= maxAgeSeconds else {
            return .failure(.init("expires_at - issued_at exceeds TEE_ATTESTATION_MAX_AGE_SECONDS"))
        }

        let fields = ChallengeEvidenceFields(
            runtime: document.runtime, measurement: document.measurement, challengeNonce: request.challengeNonce,
            issuedAt: request.issuedAt, expiresAt: request.expiresAt, operationPurpose: request.operationPurpose,
            requestID: request.requestID, evidenceIssuedAt: now)
        guard let payload = try? fields.canonicalPayload(), let signature = try? signer.sign(payload) else {
            return .failure(.init("evidence could not be built"))
        }
        return .success(
            ChallengeResponse(
                runtime: document.runtime, measurement: document.measurement, challengeNonce: request.challengeNonce,
                issuedAt: request.issuedAt, expiresAt: request.expiresAt, operationPurpose: request.operationPurpose,
                requestID: request.requestID, evidenceIssuedAt: now, signature: Data(signature).base64EncodedString()))
    }
}

public struct ChallengeRefusal: Error {
    public let reason: String
    init(_ reason: String) { self.reason = reason }
}
