import EnclaveCrypto
import Foundation
import NIOCore
import NIOSSL
import Synchronization

/// ENCLAVE_RUNTIME_TLS=attested (docs/contract.md §2b): the listener's TLS 1.3 context, its
/// certificate self-signed with the evidence key and carrying the document served right now. A
/// new certificate whenever the document changes (an NSM refresh); each new connection takes the
/// newest, and connections already open keep theirs.
final class AttestedTLSContexts: Sendable {
    let state: AttestationState
    let signer: ChallengeSigner
    let now: @Sendable () -> Int64
    private let latest = Mutex<(document: ByteBuffer, context: NIOSSLContext)?>(nil)

    init(state: AttestationState, signer: ChallengeSigner, now: @escaping @Sendable () -> Int64) {
        self.state = state
        self.signer = signer
        self.now = now
    }

    /// The context for a new connection: the cached one while the document is the same bytes.
    func context() throws -> NIOSSLContext {
        let document = state.current.documentJSON
        if let cached = latest.withLock({ $0 }), cached.document == document { return cached.context }
        let context = try Self.make(document: Array(document.readableBytesView), signer: signer, at: now())
        latest.withLock { $0 = (document, context) }
        return context
    }

    /// The certificate lives as long as its document is served; its validity dates only keep TLS
    /// libraries content (hosts judge the document, never the dates or a chain).
    static func make(document: [UInt8], signer: ChallengeSigner, at now: Int64) throws -> NIOSSLContext {
        let der = try AttestedCertificate.make(signer: signer, document: document, notBefore: now - 3600, notAfter: now + 10 * 365 * 86400)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: der, format: .der))],
            privateKey: .privateKey(NIOSSLPrivateKey(customPrivateKey: EvidenceKey(signer: signer))))
        configuration.minimumTLSVersion = .tlsv13
        configuration.maximumTLSVersion = .tlsv13
        configuration.signingSignatureAlgorithms = [.ed25519]
        return try NIOSSLContext(configuration: configuration)
    }
}

/// The evidence key as TLS's signing key: BoringSSL asks, the C core signs (the seed never
/// reaches the TLS library). Ed25519 signs the whole handshake transcript message it is given.
struct EvidenceKey: NIOSSLCustomPrivateKey, Hashable {
    let signer: ChallengeSigner

    var signatureAlgorithms: [SignatureAlgorithm] { [.ed25519] }

    func sign(channel: any Channel, algorithm: SignatureAlgorithm, data: ByteBuffer) -> EventLoopFuture<ByteBuffer> {
        guard algorithm == .ed25519 else { return channel.eventLoop.makeFailedFuture(EnclaveCryptoError.invalidArgument) }
        do {
            let signature = try signer.sign(Array(data.readableBytesView))
            return channel.eventLoop.makeSucceededFuture(ByteBuffer(bytes: signature))
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
    }

    func decrypt(channel: any Channel, data: ByteBuffer) -> EventLoopFuture<ByteBuffer> {
        channel.eventLoop.makeFailedFuture(EnclaveCryptoError.invalidArgument)
    }

    static func == (a: EvidenceKey, b: EvidenceKey) -> Bool { a.signer === b.signer }
    func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(signer)) }
}
