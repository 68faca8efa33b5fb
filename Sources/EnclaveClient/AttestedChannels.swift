import AsyncHTTPClient
import EnclaveCrypto
import EnclaveHTTP
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
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
/// chain verification. One request per connection, so no connection outlives
/// TEE_ATTESTATION_MAX_AGE_SECONDS and each answer is judged by the key of the connection that
/// carried it: replicas with keys of their own need no affinity.
public final class AttestedChannels: Sendable {
    /// The document's JSON to the Ed25519 key it vouches for, or why not.
    public typealias DocumentCheck = @Sendable ([UInt8]) throws(EnclaveCheckFailure) -> [UInt8]

    let check: DocumentCheck
    let context: NIOSSLContext
    let connectTimeout: TimeAmount
    let knownFor: Duration
    private let known = Mutex<[[UInt8]: (key: [UInt8], until: ContinuousClock.Instant)]>([:])

    public init(check: @escaping DocumentCheck, maxAgeSeconds: Int, connectTimeout: TimeAmount) throws {
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

    func send(
        _ method: HTTPMethod, _ url: String, headers: HTTPHeaders, body: [UInt8]?, timeout: Duration, maxBodyBytes: Int
    ) async throws(EnclaveTransport.Failure) -> (answer: BoundedCall.Answer, channelKey: [UInt8]?) {
        guard let parts = URLComponents(string: url), parts.scheme == "https", let host = parts.host else {
            throw .notAttested("attested TLS needs an https:// URL")
        }
        let port = parts.port ?? 443
        let outcome = ChannelOutcome()
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
                }
            }
        let answer: BoundedCall.Answer
        do {
            answer = try await Self.exchange(
                bootstrap: bootstrap, host: host, port: port, method: method, path: (parts.percentEncodedPath.isEmpty ? "/" : parts.percentEncodedPath)
                    + (parts.percentEncodedQuery.map { "?\($0)" } ?? ""), authority: "\(host):\(port)", headers: headers, body: body,
                timeout: timeout, maxBodyBytes: maxBodyBytes)
        } catch {
            if case .failure(let refused)? = outcome.key.withLock({ $0 }) { throw .notAttested(refused.detail) }
            throw .call(error)
        }
        guard case .success(let key)? = outcome.key.withLock({ $0 }) else { throw .notAttested("the handshake verified no document") }
        return (answer, key)
    }

    /// Connect, one request, its whole answer, close: all within `timeout`.
    static func exchange(
        bootstrap: ClientBootstrap, host: String, port: Int, method: HTTPMethod, path: String, authority: String, headers: HTTPHeaders,
        body: [UInt8]?, timeout: Duration, maxBodyBytes: Int
    ) async throws(BoundedCall.Failure) -> BoundedCall.Answer {
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            throw .unreachable
        }
        let promise = channel.eventLoop.makePromise(of: BoundedCall.Answer.self)
        let deadline = channel.eventLoop.scheduleTask(in: TimeAmount.nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000
            + Int64(timeout.components.attoseconds / 1_000_000_000))) {
            promise.fail(BoundedCall.Failure.timedOut)
        }
        do {
            try await channel.pipeline.addHandler(AnswerCollector(promise: promise, maxBodyBytes: maxBodyBytes)).get()
            var head = HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers)
            head.headers.replaceOrAdd(name: "host", value: authority)
            head.headers.replaceOrAdd(name: "connection", value: "close")
            head.headers.replaceOrAdd(name: "content-length", value: String(body?.count ?? 0))
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            if let body, !body.isEmpty { channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil) }
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        } catch {
            promise.fail(BoundedCall.Failure.unreachable)
        }
        defer {
            deadline.cancel()
            channel.close(promise: nil)
        }
        do {
            return try await promise.futureResult.get()
        } catch let failure as BoundedCall.Failure {
            throw failure
        } catch {
            throw .unreachable
        }
    }
}

/// What the handshake's verification found, read once the call ends.
private final class ChannelOutcome: Sendable {
    let key = Mutex<Result<[UInt8], EnclaveCheckFailure>?>(nil)
}

/// Collects one answer (head, body up to a bound, end) into a promise; a connection that ends or
/// fails first fails it.
private final class AnswerCollector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    let promise: EventLoopPromise<BoundedCall.Answer>
    let maxBodyBytes: Int
    private var head: HTTPResponseHead?
    private var body = ByteBuffer()

    init(promise: EventLoopPromise<BoundedCall.Answer>, maxBodyBytes: Int) {
        self.promise = promise
        self.maxBodyBytes = maxBodyBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body(var part):
            guard body.readableBytes + part.readableBytes <= maxBodyBytes else {
                promise.fail(BoundedCall.Failure.tooLarge)
                context.close(promise: nil)
                return
            }
            body.writeBuffer(&part)
        case .end:
            guard let head else { return promise.fail(BoundedCall.Failure.unreachable) }
            promise.succeed(BoundedCall.Answer(status: Int(head.status.code), headers: head.headers, body: body))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(BoundedCall.Failure.unreachable)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(BoundedCall.Failure.unreachable)
        context.close(promise: nil)
    }
}
