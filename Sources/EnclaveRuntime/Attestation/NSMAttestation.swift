import EnclaveContract
import EnclaveCrypto
import EnclaveNSM
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Attestation from the Nitro Secure Module (docs/contract.md §3a): a document at start, then
/// fresh ones in the background, never on the request path, each vouching for the evidence key
/// made at start (`public_key`) with `user_data` "enclave-runtime/v1" and no nonce.
final class NSMAttestation: Service, Sendable {
    static let userData = Array("enclave-runtime/v1".utf8)

    let device: String
    let publicKey: [UInt8]
    let state: AttestationState
    let interval: Duration
    let logger: Logger
    let metrics: NSMMetrics

    /// At least every 60 s, and often enough that the latest is never older than half the maximum age.
    static func refreshInterval(maxAgeSeconds: Int) -> Duration {
        .milliseconds(min(60_000, maxAgeSeconds * 1000 / 2))
    }

    init(device: String, publicKey: [UInt8], state: AttestationState, interval: Duration, logger: Logger, metrics: NSMMetrics = .none) {
        self.device = device
        self.publicKey = publicKey
        self.state = state
        self.interval = interval
        self.logger = logger
        self.metrics = metrics
    }

    /// The first document, at start: blocking, before the runtime listens.
    static func firstSnapshot(device: String, publicKey: [UInt8]) throws -> AttestationSnapshot {
        let document: [UInt8]
        do {
            document = try NSMClient.attest(device: device, publicKey: publicKey, userData: userData)
        } catch {
            throw NSMStartError.unavailable(error.description)
        }
        return try snapshot(document, publicKey: publicKey)
    }

    /// The snapshot of one NSM document. The runtime's own NSM is trusted for its chain (hosts
    /// verify it); the structure is checked, and that it vouches for this runtime's key.
    static func snapshot(_ document: [UInt8], publicKey: [UInt8]) throws -> AttestationSnapshot {
        let parsed: NitroAttestationDocument
        do {
            parsed = try NitroAttestationDocument(parsing: document)
        } catch {
            throw NSMStartError.unreadable("the NSM's document is malformed: \(error)")
        }
        guard parsed.publicKey == publicKey, parsed.pcrs[0] != nil else {
            throw NSMStartError.unreadable("the NSM's document does not vouch for this runtime's evidence key, or lacks PCR0")
        }
        let identity = AttestedIdentity(runtime: "nitro", measurement: parsed.measurement)
        let issuedAt = parsed.timestampMilliseconds / 1000
        let encoded = Data(document).base64EncodedString()
        let body = AttestationDocumentBody(
            runtime: identity.runtime, measurement: identity.measurement, issuedAt: Int(issuedAt), devShim: false,
            publicKey: Data(publicKey).base64EncodedString(), format: AttestationDocumentBody.nitroFormat,
            attestationDocument: encoded)
        return AttestationSnapshot(
            identity: identity, documentJSON: ByteBuffer(bytes: body.jsonBytes), attestationDocument: encoded,
            issuedAtMilliseconds: parsed.timestampMilliseconds)
    }

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            await refresh()
        }
    }

    /// One refresh: the blocking NSM exchange on NIO's thread pool. A failure keeps the last
    /// document, which challenges use until it is older than the maximum age.
    func refresh() async {
        let (device, publicKey) = (self.device, self.publicKey)
        do {
            let document = try await NIOThreadPool.singleton.runIfActive {
                try NSMClient.attest(device: device, publicKey: publicKey, userData: Self.userData)
            }
            let snapshot = try Self.snapshot(document, publicKey: publicKey)
            state.replace(with: snapshot)
            metrics.refreshed(snapshot.issuedAtMilliseconds / 1000)
        } catch {
            metrics.failed()
            logger.error("NSM attestation refresh failed; the last document stays until it is too old", metadata: [
                "error": "\(error)",
            ])
        }
    }
}

/// The first document could not be had (the NSM does not answer: exit 70) or read (exit 78).
enum NSMStartError: Error, CustomStringConvertible {
    case unavailable(String)
    case unreadable(String)

    var description: String {
        switch self {
        case .unavailable(let reason): "no attestation document from the NSM: \(reason)"
        case .unreadable(let reason): reason
        }
    }
}

/// Where the refresher reports; the metrics issue fills it in.
struct NSMMetrics: Sendable {
    var refreshed: @Sendable (_ issuedAt: Int64) -> Void
    var failed: @Sendable () -> Void
    static let none = NSMMetrics(refreshed: { _ in }, failed: {})
}
