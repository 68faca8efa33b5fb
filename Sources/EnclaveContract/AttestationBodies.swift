import EnclaveJSON

/// The bodies of the unsigned endpoints: health (docs/contract.md §1), the attestation document
/// (§3, §3a) and the challenge (§4).

public struct HealthResponse: WireBody {
    public var environment: String
    public var mode: String
    /// Beyond v1: the store's kind and whether it answered its latest check.
    public var store: String
    public var storeReachable: Bool
    /// Beyond v1 (§3b): where the secrets came from, `kms` or `configured`; nil from an older runtime.
    public var secrets: String?
    /// Beyond v1: active records still sealed under an earlier data-key version; nil when none.
    public var previousKeyRecords: Int?

    public init(environment: String, mode: String, store: String, storeReachable: Bool, secrets: String? = nil) {
        (self.environment, self.mode, self.store, self.storeReachable) = (environment, mode, store, storeReachable)
        self.secrets = secrets
    }

    public init?(json: JSONValue) {
        guard json["status"]?.string == "ok", let environment = json["environment"]?.string, let mode = json["mode"]?.string,
            let store = json["store"]?.string, case .bool(let reachable)? = json["store_reachable"]
        else { return nil }
        self.init(environment: environment, mode: mode, store: store, storeReachable: reachable, secrets: json["secrets"]?.string)
        previousKeyRecords = json["previous_key_records"]?.integer.map(Int.init)
    }

    public func write(to json: inout JSONWriter) {
        json.beginObject()
        json.key("status"); json.string("ok")
        json.key("environment"); json.string(environment)
        json.key("mode"); json.string(mode)
        json.key("store"); json.string(store)
        json.key("store_reachable"); json.bool(storeReachable)
        if let secrets { json.key("secrets"); json.string(secrets) }
        if let previousKeyRecords { json.key("previous_key_records"); json.integer(previousKeyRecords) }
        json.endObject()
    }
}

/// `GET /v1/attestation/document`. A configured (static) document is served byte for byte and
/// may hold more fields; these are the ones the contract reads. `signature` is always null.
public struct AttestationDocumentBody: WireBody {
    public var runtime: String
    public var measurement: String
    public var issuedAt: Int?
    public var devShim: Bool?
    /// Base64 of the raw Ed25519 evidence key, when the document publishes one.
    public var publicKey: String?
    /// `aws-nitro-cose` with `attestationDocument`, base64 of the NSM's COSE_Sign1 (§3a).
    public var format: String?
    public var attestationDocument: String?

    public static let nitroFormat = "aws-nitro-cose"

    public init(
        runtime: String, measurement: String, issuedAt: Int?, devShim: Bool?, publicKey: String?, format: String? = nil,
        attestationDocument: String? = nil
    ) {
        (self.runtime, self.measurement, self.issuedAt, self.devShim) = (runtime, measurement, issuedAt, devShim)
        (self.publicKey, self.format, self.attestationDocument) = (publicKey, format, attestationDocument)
    }

    public init?(json: JSONValue) {
        guard let runtime = json["runtime"]?.string, let measurement = json["measurement"]?.string,
            let issuedAt = OptionalField.integer(json["issued_at"]), let publicKey = OptionalField.string(json["public_key"]),
            let format = OptionalField.string(json["format"]), let document = OptionalField.string(json["attestation_document"])
        else { return nil }
        var devShim: Bool?
        if case .bool(let value)? = json["dev_shim"] { devShim = value }
        self.init(
            runtime: runtime, measurement: measurement, issuedAt: issuedAt, devShim: devShim, publicKey: publicKey, format: format,
            attestationDocument: document)
    }

    public func write(to json: inout JSONWriter) {
        json.beginObject()
        json.key("runtime"); json.string(runtime)
        json.key("measurement"); json.string(measurement)
        if let issuedAt { json.key("issued_at"); json.integer(issuedAt) }
        json.key("signature"); json.null()
        if let devShim { json.key("dev_shim"); json.bool(devShim) }
        if let publicKey { json.key("public_key"); json.string(publicKey) }
        if let format { json.key("format"); json.string(format) }
        if let attestationDocument { json.key("attestation_document"); json.string(attestationDocument) }
        json.endObject()
    }
}

/// `POST /v1/attestation/challenge` request.
public struct ChallengeRequest: WireBody {
    public var challengeNonce: String
    public var issuedAt: Int64
    public var expiresAt: Int64
    public var operationPurpose: String
    public var requestID: String

    public init(challengeNonce: String, issuedAt: Int64, expiresAt: Int64, operationPurpose: String, requestID: String) {
        (self.challengeNonce, self.issuedAt, self.expiresAt) = (challengeNonce, issuedAt, expiresAt)
        (self.operationPurpose, self.requestID) = (operationPurpose, requestID)
    }

    public init?(json: JSONValue) {
        guard let challengeNonce = json["challenge_nonce"]?.string, let issuedAt = json["issued_at"]?.integer,
            let expiresAt = json["expires_at"]?.integer, let operationPurpose = json["operation_purpose"]?.string,
            let requestID = json["request_id"]?.string
        else { return nil }
        self.init(
            challengeNonce: challengeNonce, issuedAt: issuedAt, expiresAt: expiresAt, operationPurpose: operationPurpose,
            requestID: requestID)
    }

    public func write(to json: inout JSONWriter) {
        json.beginObject()
        json.key("challenge_nonce"); json.string(challengeNonce)
        json.key("issued_at"); json.integer(issuedAt)
        json.key("expires_at"); json.integer(expiresAt)
        json.key("operation_purpose"); json.string(operationPurpose)
        json.key("request_id"); json.string(requestID)
        json.endObject()
    }
}

/// The fields of attestation evidence that are signed (§4): the runtime, the challenge echoed, and
/// when the evidence was made. `EnclaveCrypto` builds their canonical text.
public struct ChallengeEvidenceFields: Sendable, Equatable {
    public var runtime: String
    public var measurement: String
    public var challengeNonce: String
    public var issuedAt: Int64
    public var expiresAt: Int64
    public var operationPurpose: String
    public var requestID: String
    public var evidenceIssuedAt: Int64

    public init(
        runtime: String, measurement: String, challengeNonce: String, issuedAt: Int64, expiresAt: Int64,
        operationPurpose: String, requestID: String, evidenceIssuedAt: Int64
    ) {
        (self.runtime, self.measurement, self.challengeNonce) = (runtime, measurement, challengeNonce)
        (self.issuedAt, self.expiresAt, self.operationPurpose, self.requestID) = (issuedAt, expiresAt, operationPurpose, requestID)
        self.evidenceIssuedAt = evidenceIssuedAt
    }
}

/// The challenge's evidence: the signed fields (read as `answer.runtime` and so on), the signature
/// and, beyond v1, the latest NSM document (§4).
@dynamicMemberLookup
public struct ChallengeResponse: WireBody {
    public var evidence: ChallengeEvidenceFields
    /// Base64 of the Ed25519 signature over the evidence string.
    public var signature: String
    /// Beyond v1 (§3a): base64 of the latest NSM document.
    public var attestationDocument: String?

    public init(evidence: ChallengeEvidenceFields, signature: String, attestationDocument: String?) {
        (self.evidence, self.signature, self.attestationDocument) = (evidence, signature, attestationDocument)
    }

    public subscript<Field>(dynamicMember field: KeyPath<ChallengeEvidenceFields, Field>) -> Field { evidence[keyPath: field] }

    public init?(json: JSONValue) {
        guard let runtime = json["runtime"]?.string, let measurement = json["measurement"]?.string,
            let challenge = ChallengeRequest(json: json), let evidenceIssuedAt = json["evidence_issued_at"]?.integer,
            let signature = json["signature"]?.string, let document = OptionalField.string(json["attestation_document"])
        else { return nil }
        self.init(
            evidence: ChallengeEvidenceFields(
                runtime: runtime, measurement: measurement, challengeNonce: challenge.challengeNonce, issuedAt: challenge.issuedAt,
                expiresAt: challenge.expiresAt, operationPurpose: challenge.operationPurpose, requestID: challenge.requestID,
                evidenceIssuedAt: evidenceIssuedAt),
            signature: signature, attestationDocument: document)
    }

    public func write(to json: inout JSONWriter) {
        json.beginObject()
        json.key("runtime"); json.string(evidence.runtime)
        json.key("measurement"); json.string(evidence.measurement)
        json.key("challenge_nonce"); json.string(evidence.challengeNonce)
        json.key("issued_at"); json.integer(evidence.issuedAt)
        json.key("expires_at"); json.integer(evidence.expiresAt)
        json.key("operation_purpose"); json.string(evidence.operationPurpose)
        json.key("request_id"); json.string(evidence.requestID)
        json.key("evidence_issued_at"); json.integer(evidence.evidenceIssuedAt)
        json.key("signature"); json.string(signature)
        if let attestationDocument { json.key("attestation_document"); json.string(attestationDocument) }
        json.endObject()
    }
}
