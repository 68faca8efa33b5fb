import AsyncHTTPClient
import EnclaveCrypto
import EnclaveHTTP
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOTLS
import Synchronization

/// How a host's calls reach the enclave: AsyncHTTPClient's pool over plain HTTP, or attested TLS
/// (docs/contract.md §2b), where every connection proves in its handshake which enclave it
/// reaches and each answer comes with that connection's key.
public enum EnclaveTransport: Sendable {
    case plain(HTTPClient)
    case attested(AttestedChannels)

    public enum Failure: Error, Sendable, Equatable {
        case call(BoundedCall.Failure)
        /// The connection's certificate or its document did not pass (the detail says which check).
        case notAttested(String)
    }

    /// The answer and, with attested TLS, the Ed25519 key of the connection that carried it.
    func send(
        _ method: HTTPMethod, _ url: String, headers: HTTPHeaders = [:], body: [UInt8]? = nil, timeout: Duration, maxBodyBytes: Int
    ) async throws(Failure) -> (answer: BoundedCall.Answer, channelKey: [UInt8]?) {
        switch self {
        case .plain(let http):
            var request = HTTPClientRequest(url: url)
            request.method = method
            request.headers = headers
            if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
            do {
                return (try await BoundedCall.send(request, with: http, timeout: timeout, maxBodyBytes: maxBodyBytes), nil)
            } catch {
                throw .call(error)
            }
        case .attested(let channels):
            return try await channels.send(method, url, headers: headers, body: body, timeout: timeout, maxBodyBytes: maxBodyBytes)
        }
    }
}

/// Attested TLS to the enclave: TLS 1.3 only, and in each handshake the certificate's document
/// must pass `check` (what the startup probe checks of a document) and vouch for the certificate's
/// key; otherwise the handshake fails and nothing is sent. A document already verified is known
/// by its bytes for half the maximum age, so a new connection to it costs a handshake, not a
/// chain verification. Verified connections are kept alive and reused, each for at most
/// TEE_ATTESTATION_MAX_AGE_SECONDS after its handshake, and every answer is judged by the key of
/// the connection that carried it: replicas with keys of their own need no affinity.
public final class AttestedChannels: Sendable {
    /// The document's JSON to the Ed25519 key it vouches for, or why not.
    public typealias DocumentCheck = @Sendable ([UInt8]) throws(EnclaveCheckFailure) -> [UInt8]

    let check: DocumentCheck
    let context: NIOSSLContext
    let connectTimeout: TimeAmount
    let knownFor: Duration
    private let known = Mutex<[[UInt8]: (key: [UInt8], until: ContinuousClock.Instant)]>([:])

    public init(check: @escaping DocumentCheck, maxAgeSeconds: Int, connectTimeout: TimeAmount) throws {
        maxLife = .seconds(maxAgeSeconds)
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv13
        tls.maximumTLSVersion = .tlsv13
        // No chain and no host name: the custom verification below judges the document (§2b).
        tls.certificateVerification = .noHostnameVerification
        // BoringSSL's clients offer no Ed25519 by default; the evidence key signs with nothing else.
        tls.verifySignatureAlgorithms = [.ed25519]
        context = try NIOSSLContext(configuration: tls)
        self.check = check
        self.connectTimeout = connectTimeout
        knownFor = .milliseconds(max(1000, maxAgeSeconds * 500))
    }

    /// The key a peer certificate proves, checking its document unless known.
    func verify(certificate der: [UInt8]) throws(EnclaveCheckFailure) -> [UInt8] {
        guard let (document, key) = AttestedCertificate.read(der) else {
            throw EnclaveCheckFailure(.channelNotAttested, "the certificate is not an attested certificate")
        }
        let now = ContinuousClock.now
        if let entry = known.withLock({ $0[document] }), entry.until > now, entry.key == key { return key }
        let vouched: [UInt8]
        do {
            vouched = try check(document)
        } catch {
            throw EnclaveCheckFailure(.channelNotAttested, "the channel's document: \(error.step.rawValue): \(error.detail)")
        }
        guard vouched == key else {
            throw EnclaveCheckFailure(.channelNotAttested, "the certificate's key is not the key its document vouches for")
        }
        known.withLock { cache in
            cache = cache.filter { $0.value.until > now }
            cache[document] = (key, now + knownFor)
        }
        return key
    }

    /// Idle verified connections by authority: (channel, its key, its handshake's time, when it went idle).
    private let idle = Mutex<[String: [PooledChannel]]>([:])
    /// A connection is reused at most this long after its handshake (TEE_ATTESTATION_MAX_AGE_SECONDS),
    /// and not after this long idle (well inside the runtime's 75 s idle timeout).
    let maxLife: Duration
    static let maxIdle: Duration = .seconds(20)

    func send(
        _ method: HTTPMethod, _ url: String, headers: HTTPHeaders, body: [UInt8]?, timeout: Duration, maxBodyBytes: Int
    ) async throws(EnclaveTransport.Failure) -> (answer: BoundedCall.Answer, channelKey: [UInt8]?) {
        guard let parts = URLComponents(string: url), parts.scheme == "https", let host = parts.host else {
            throw .notAttested("attested TLS needs an https:// URL")
        }
        let port = parts.port ?? 443
        let authority = "\(host):\(port)"
        let path = (parts.percentEncodedPath.isEmpty ? "/" : parts.percentEncodedPath) + (parts.percentEncodedQuery.map { "?\($0)" } ?? "")
        let request = Request(method: method, path: path, authority: authority, headers: headers, body: body)
        let channel: PooledChannel
        if let reused = takeIdle(authority) {
            channel = reused
        } else {
            channel = try await connect(host: host, port: port)
        }
        let answer: (BoundedCall.Answer, keepAlive: Bool)
        do {
            answer = try await channel.collector.exchange(request, on: channel.channel, timeout: timeout, maxBodyBytes: maxBodyBytes)
        } catch {
            channel.channel.close(promise: nil)
            throw .call(error)
        }
        if answer.keepAlive && ContinuousClock.now - channel.opened < maxLife {
            var pooled = channel
            pooled.idleSince = .now
            idle.withLock { $0[authority, default: []].append(pooled) }
        } else {
            channel.channel.close(promise: nil)
        }
        return (answer.0, channel.key)
    }

    private func takeIdle(_ authority: String) -> PooledChannel? {
        let now = ContinuousClock.now
        return idle.withLock { pool -> PooledChannel? in
            var channels = pool[authority] ?? []
            defer { pool[authority] = channels }
            while let candidate = channels.popLast() {
                if candidate.channel.isActive && now - candidate.opened < maxLife && now - candidate.idleSince < Self.maxIdle {
                    return candidate
                }
                candidate.channel.close(promise: nil)
            }
            return nil
        }
    }

    /// A new connection whose handshake verified its document, or why not.
    private func connect(host: String, port: Int) async throws(EnclaveTransport.Failure) -> PooledChannel {
        let outcome = ChannelOutcome()
        let collector = AnswerCollector()
        let (context, check) = (self.context, self)
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let tls = try NIOSSLClientHandler(context: context, serverHostname: nil) { certificates, promise in
                        do throws(EnclaveCheckFailure) {
                            guard let der = try? certificates.first?.toDERBytes() else {
                                throw EnclaveCheckFailure(.channelNotAttested, "no certificate")
                            }
                            let key = try check.verify(certificate: der)
                            outcome.key.withLock { $0 = .success(key) }
                            promise.succeed(.certificateVerified)
                        } catch {
                            outcome.key.withLock { $0 = .failure(error) }
                            promise.succeed(.failed)
                        }
                    }
                    try channel.pipeline.syncOperations.addHandler(tls)
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(collector)
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: host, port: port).get()
            // The handshake is over before the connection is used: its outcome decides.
            try await collector.handshakeDone(on: channel, within: connectTimeout)
        } catch {
            if case .failure(let refused)? = outcome.key.withLock({ $0 }) { throw .notAttested(refused.detail) }
            throw .call(error as? BoundedCall.Failure ?? .unreachable)
        }
        switch outcome.key.withLock({ $0 }) {
        case .success(let key)?: return PooledChannel(channel: channel, key: key, collector: collector, opened: .now, idleSince: .now)
        case .failure(let refused)?:
            channel.close(promise: nil)
            throw .notAttested(refused.detail)
        case nil:
            channel.close(promise: nil)
            throw .notAttested("the handshake verified no document")
        }
    }
}

private struct Request: Sendable {
    var method: HTTPMethod
    var path: String
    var authority: String
    var headers: HTTPHeaders
    var body: [UInt8]?
}

private struct PooledChannel: Sendable {
    let channel: any Channel
    let key: [UInt8]
    let collector: AnswerCollector
    let opened: ContinuousClock.Instant
    var idleSince: ContinuousClock.Instant
}

/// What the handshake's verification found, read once the call ends.
private final class ChannelOutcome: Sendable {
    let key = Mutex<Result<[UInt8], EnclaveCheckFailure>?>(nil)
}

/// Collects answers (head, body up to a bound, end), one request at a time, on its channel's event
/// loop; a connection that ends or fails first fails the pending one. It also waits for the TLS
/// handshake to finish, so a connection is used only once its document has been verified.
private final class AnswerCollector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    // Every field is touched on the channel's event loop only.
    private var promise: EventLoopPromise<(BoundedCall.Answer, keepAlive: Bool)>?
    private var handshake: EventLoopPromise<Void>?
    private var handshaken = false, closed = false
    private var maxBodyBytes = 0
    private var head: HTTPResponseHead?
    private var body = ByteBuffer()

    /// Returns once the handshake succeeded; throws when the connection ends first or `within` passes.
    func handshakeDone(on channel: any Channel, within: TimeAmount) async throws {
        try await channel.eventLoop.flatSubmit { () -> EventLoopFuture<Void> in
            if self.handshaken { return channel.eventLoop.makeSucceededVoidFuture() }
            if self.closed { return channel.eventLoop.makeFailedFuture(BoundedCall.Failure.unreachable) }
            let promise = channel.eventLoop.makePromise(of: Void.self)
            self.handshake = promise
            let deadline = channel.eventLoop.scheduleTask(in: within) { promise.fail(BoundedCall.Failure.timedOut) }
            promise.futureResult.whenComplete { _ in deadline.cancel() }
            return promise.futureResult
        }.get()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            handshaken = true
            handshake?.succeed(())
            handshake = nil
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// One request and its whole answer within `timeout`; whether the connection may carry another.
    func exchange(
        _ request: Request, on channel: any Channel, timeout: Duration, maxBodyBytes: Int
    ) async throws(BoundedCall.Failure) -> (BoundedCall.Answer, keepAlive: Bool) {
        let future = channel.eventLoop.flatSubmit { () -> EventLoopFuture<(BoundedCall.Answer, keepAlive: Bool)> in
            let promise = channel.eventLoop.makePromise(of: (BoundedCall.Answer, keepAlive: Bool).self)
            if self.closed {
                promise.fail(BoundedCall.Failure.unreachable)
                return promise.futureResult
            }
            (self.promise, self.maxBodyBytes, self.head, self.body) = (promise, maxBodyBytes, nil, ByteBuffer())
            var head = HTTPRequestHead(version: .http1_1, method: request.method, uri: request.path, headers: request.headers)
            head.headers.replaceOrAdd(name: "host", value: request.authority)
            head.headers.replaceOrAdd(name: "content-length", value: String(request.body?.count ?? 0))
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            if let body = request.body, !body.isEmpty {
                channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil)
            }
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            let deadline = channel.eventLoop.scheduleTask(in: TimeAmount.nanoseconds(
                Int64(timeout.components.seconds) * 1_000_000_000 + Int64(timeout.components.attoseconds / 1_000_000_000))
            ) {
                promise.fail(BoundedCall.Failure.timedOut)
            }
            promise.futureResult.whenComplete { _ in deadline.cancel() }
            return promise.futureResult
        }
        do {
            return try await future.get()
        } catch let failure as BoundedCall.Failure {
            throw failure
        } catch {
            throw .unreachable
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body(var part):
            guard body.readableBytes + part.readableBytes <= maxBodyBytes else {
                fail(.tooLarge)
                context.close(promise: nil)
                return
            }
            body.writeBuffer(&part)
        case .end:
            guard let head else { return fail(.unreachable) }
            let keepAlive = head.isKeepAlive
            promise?.succeed((BoundedCall.Answer(status: Int(head.status.code), headers: head.headers, body: body), keepAlive))
            promise = nil
        }
    }

    private func fail(_ failure: BoundedCall.Failure) {
        promise?.fail(failure)
        promise = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        fail(.unreachable)
        handshake?.fail(BoundedCall.Failure.unreachable)
        handshake = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        closed = true
        fail(.unreachable)
        handshake?.fail(error)
        handshake = nil
        context.close(promise: nil)
    }
}
