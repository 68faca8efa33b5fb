import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes
import NIOSSL
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What every listener of the project (the runtime's RPC and metrics listeners, the api and the
/// hosts' metrics listeners) holds a connection to. An attack on the last wave held them open:
/// connections that sent nothing or half a request line stayed for as long as they liked, and 300
/// idle connections to a metrics port starved a runtime limited to 256 file descriptors.
public struct ListenerLimits: Sendable, Equatable {
    /// Connections open at once; one accepted beyond it is closed before anything is read.
    public var maxConnections: Int
    /// How long a connection may wait for the first byte of its next request.
    public var idleTimeout: TimeAmount
    /// From the first byte of a request to its last: a request must be complete within it, however
    /// its bytes trickle in. A request being worked on (a slow provider) is never cut.
    public var requestDeadline: TimeAmount

    public init(maxConnections: Int, idleTimeout: TimeAmount, requestDeadline: TimeAmount) {
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
        self.requestDeadline = requestDeadline
    }

    /// Descriptors kept back for everything that is not a listener's connection: the stores, the
    /// provider and database connections, the logs.
    static let reservedDescriptors = 64

    /// A serving listener (the RPC listener, the api): up to 1024 connections, and never so many
    /// that they and a metrics listener's could use up the process's descriptors. The idle timeout
    /// outlasts the 60 s after which AsyncHTTPClient, the hosts' client, drops a pooled connection,
    /// so a host closes first and never sends on a connection being closed.
    public static func serving(descriptorLimit: Int = ListenerLimits.descriptorLimit()) -> ListenerLimits {
        let room = (descriptorLimit - reservedDescriptors - metrics.maxConnections) * 3 / 4
        return ListenerLimits(maxConnections: max(16, min(1024, room)), idleTimeout: .seconds(75), requestDeadline: .seconds(10))
    }

    /// A metrics listener: a scraper or two, so a small cap that can never starve a serving listener.
    public static let metrics = ListenerLimits(maxConnections: 8, idleTimeout: .seconds(30), requestDeadline: .seconds(5))

    /// The soft RLIMIT_NOFILE of this process.
    public static func descriptorLimit() -> Int {
        var limit = rlimit()
        #if canImport(Glibc)
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        #else
        guard getrlimit(RLIMIT_NOFILE, &limit) == 0 else { return 1024 }
        #endif
        return limit.rlim_cur == rlim_t.max ? Int.max / 2 : Int(clamping: limit.rlim_cur)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with `limits` on every connection. Hummingbird's own idle timeout is reset by every
    /// part read, so it is left off: these limits replace it. With `tls`, every connection is TLS
    /// first, in the context `tls` gives at its start (attested TLS takes the newest certificate).
    public static func guarded(_ limits: ListenerLimits, tls: (@Sendable () throws -> NIOSSLContext)? = nil) -> HTTPServerBuilder {
        let counter = ConnectionCounter()
        return HTTPServerBuilder { responder in
            GuardedHTTP1Channel(
                inner: HTTP1Channel(responder: responder, configuration: .init(additionalChannelHandlers: [RequestBoundaries()])),
                limits: limits, counter: counter, tls: tls)
        }
    }
}

/// The connections a listener holds, across its event loops.
final class ConnectionCounter: Sendable {
    let open = Atomic<Int>(0)
}

struct GuardedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value
    let inner: HTTP1Channel
    let limits: ListenerLimits
    let counter: ConnectionCounter
    let tls: (@Sendable () throws -> NIOSSLContext)?

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let (limits, counter, inner, tls) = (limits, counter, inner, tls)
        return channel.eventLoop.makeCompletedFuture {
            // First in the pipeline: it sees the bytes before the HTTP decoder does (with TLS, the
            // plaintext: a handshake alone does not hold the idle timer off).
            try channel.pipeline.syncOperations.addHandler(ConnectionWatch(limits: limits, counter: counter), position: .first)
            if let tls {
                try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: try tls()), position: .first)
            }
        }.flatMap { inner.setup(channel: channel, logger: logger) }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

/// One connection's timers and its place under the cap, on its event loop. Waiting for a request:
/// the idle timeout runs. Its first byte: the request deadline runs until the request's end has
/// been read. Then nothing runs until the answer's end is written.
final class ConnectionWatch: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let limits: ListenerLimits
    let counter: ConnectionCounter
    private var context: ChannelHandlerContext?
    private var counted = false
    private var timer: Scheduled<Void>?
    private var requestsRead = 0, answersWritten = 0
    private var reading = false, bytesWhileBusy = false

    init(limits: ListenerLimits, counter: ConnectionCounter) {
        self.limits = limits
        self.counter = counter
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    private func start(_ context: ChannelHandlerContext) {
        guard !counted else { return }
        counted = true
        if counter.open.add(1, ordering: .relaxed).newValue > limits.maxConnections {
            context.close(promise: nil)
            return
        }
        arm(limits.idleTimeout)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        if counted {
            counted = false
            counter.open.subtract(1, ordering: .relaxed)
        }
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if requestsRead > answersWritten {
            bytesWhileBusy = true  // the next request, pipelined: its deadline starts after this answer
        } else if !reading {
            reading = true
            arm(limits.requestDeadline)
        }
        context.fireChannelRead(data)
    }

    /// The end of a request was read: it is being worked on, and no timer may cut it; unless it
    /// was answered already (an early refusal), when the connection waits for the next one.
    func requestRead() {
        requestsRead += 1
        reading = false
        if requestsRead > answersWritten {
            timer?.cancel()
            timer = nil
        } else {
            arm(limits.idleTimeout)
        }
    }

    /// The end of an answer was written: wait for the next request.
    func answerWritten() {
        answersWritten += 1
        guard answersWritten >= requestsRead else { return }
        if bytesWhileBusy {
            bytesWhileBusy = false
            reading = true
            arm(limits.requestDeadline)
        } else {
            arm(limits.idleTimeout)
        }
    }

    private func arm(_ delay: TimeAmount) {
        timer?.cancel()
        guard let context else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [weak self] in
            self?.context?.close(promise: nil)
        }
    }
}

/// After the HTTP codec: tells the connection's watch where requests and answers end.
final class RequestBoundaries: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var watch: ConnectionWatch?

    func handlerAdded(context: ChannelHandlerContext) {
        watch = try? context.pipeline.syncOperations.handler(type: ConnectionWatch.self)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) { watch?.requestRead() }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { watch?.answerWritten() }
        context.write(data, promise: promise)
    }
}
