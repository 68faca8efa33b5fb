import EnclaveContract
import Foundation
import NIOCore
import Synchronization

/// What the runtime presents as its attestation at a moment: the document the document endpoint
/// serves, and, from the NSM, the COSE document every challenge answer carries.
struct AttestationSnapshot: Sendable {
    let identity: AttestedIdentity
    /// The body of GET /v1/attestation/document, byte for byte.
    let documentJSON: ByteBuffer
    /// Base64 of the NSM's COSE_Sign1 document; nil for a static or dev-shim document.
    let attestationDocument: String?
    /// The document's time in Unix milliseconds (the NSM's `timestamp`, which hosts judge).
    let issuedAtMilliseconds: Int64
}

/// The latest snapshot, replaced by the NSM refresher and read by every document and challenge
/// request. A static document never ages; an NSM document older than the maximum age makes
/// challenges answer `attestation_unavailable` rather than stale evidence.
final class AttestationState: Sendable {
    private let latest: Mutex<AttestationSnapshot>
    /// nil: the snapshot never ages (static and dev-shim documents).
    let maxAgeSeconds: Int64?

    init(_ snapshot: AttestationSnapshot, maxAgeSeconds: Int64?) {
        latest = Mutex(snapshot)
        self.maxAgeSeconds = maxAgeSeconds
    }

    var current: AttestationSnapshot { latest.withLock { $0 } }

    func replace(with snapshot: AttestationSnapshot) { latest.withLock { $0 = snapshot } }

    /// The snapshot when it is young enough at `nowMilliseconds` to back evidence. Compared in
    /// milliseconds, as hosts compare it: whole seconds let a document 20.4 s old pass a 20 s maximum.
    func usable(atMilliseconds nowMilliseconds: Int64) -> AttestationSnapshot? {
        let snapshot = current
        guard let maxAgeSeconds else { return snapshot }
        return nowMilliseconds - snapshot.issuedAtMilliseconds <= maxAgeSeconds * 1000 ? snapshot : nil
    }
}
