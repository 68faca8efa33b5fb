/// Why the enclave was refused, at startup (the probe) or at a worker's periodic re-check;
/// `step` is what the hosts print and exit with.
public struct EnclaveCheckFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Step: String, Sendable {
        case unreachable
        case badStatus = "bad status"
        case badDocument = "bad document"
        case measurementNotAllowed = "measurement not allowed"
        case evidenceInvalid = "evidence invalid"
        case signatureInvalid = "signature invalid"
        case wrongSharedSecret = "wrong shared secret"
        /// An RPC answer whose response signature or ping binding does not verify (docs/contract.md §2a).
        case answerNotAuthenticated = "answer not authenticated"
        /// The Nitro document does not verify (chain, signature, time, structure), or is missing
        /// where TEE_ALLOWED_PCRS expects one (docs/contract.md §3a).
        case attestationDocumentInvalid = "attestation document invalid"
        case pcrsNotAllowed = "PCRs not allowed"
        case debugEnclave = "debug enclave"
        /// Attested TLS (docs/contract.md §2b): the connection's certificate or its document did
        /// not pass, so nothing was sent on it.
        case channelNotAttested = "channel not attested"
    }

    public var step: Step
    public var detail: String
    /// Retried until the probe deadline (the enclave may be starting, or between two documents);
    /// every other failure ends the probe at once.
    public var isTransient: Bool

    public init(_ step: Step, _ detail: String, transient: Bool? = nil) {
        self.step = step
        self.detail = detail
        isTransient = transient ?? (step == .unreachable || step == .badStatus)
    }

    public var description: String { "enclave probe failed: \(step.rawValue): \(detail)" }
}
