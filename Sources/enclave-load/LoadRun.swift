import EnclaveContract
import NIOCore
import NIOHTTP1
import NIOPosix

/// One closed-loop run: every connection keeps one request in flight until the end time. All
/// state lives on a single event loop, so nothing here is locked.
final class LoadRun: @unchecked Sendable {
    let loop: EventLoop
    /// Connections go to these in turn (a fleet's replicas, or one runtime).
    let addresses: [SocketAddress]
    private var nextAddress = 0
    let requests: LoadRequests
    let measureFrom: NIODeadline
    let end: NIODeadline
    let stopOnRefused: Bool
    let finished: EventLoopPromise<Void>

    private(set) var latenciesMicros: [UInt32] = []
    private(set) var statuses: [Int: Int] = [:]
    var sent = 0, answered = 0, measuredNon200 = 0
    /// Never connected; a request sent and no complete answer; a request re-sent on a new
    /// connection because a reused one closed before any answer byte (the keep-alive race every
    /// HTTP client retries).
    var refused = 0, dropped = 0, retried = 0
    /// Answers to signed requests whose response signature was checked (one in `answerSample`, as
    /// a host checks every one), and those that did not verify.
    var answersChecked = 0, answersUnauthenticated = 0
    static let answerSample = 16
    private var liveConnections = 0

    init(
        loop: EventLoop, addresses: [SocketAddress], requests: LoadRequests, warmup: TimeAmount, duration: TimeAmount,
        stopOnRefused: Bool
    ) {
        self.loop = loop
        self.addresses = addresses
        self.requests = requests
        measureFrom = .now() + warmup
        end = measureFrom + duration
        self.stopOnRefused = stopOnRefused
        finished = loop.makePromise()
    }

    func start(connections: Int) {
        liveConnections = connections
        for _ in 0..<connections { connect() }
    }

    func connect() {
        let address = addresses[nextAddress % addresses.count]
        nextAddress += 1
        ClientBootstrap(group: loop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        PreEncodedRequestWriter(),
                        ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)),
                        LoadConnection(run: self),
                    ])
                }
            }
            .connect(to: address)
            .whenFailure { _ in
                self.refused += 1
                if self.stopOnRefused || NIODeadline.now() >= self.end {
                    self.connectionFinished()
                } else {
                    self.loop.scheduleTask(in: .milliseconds(10)) { self.connect() }
                }
            }
    }

    func record(status: Int, started: NIODeadline, finished: NIODeadline) {
        answered += 1
        statuses[status, default: 0] += 1
        guard started >= measureFrom, finished <= end else { return }
        let micros = (finished - started).nanoseconds / 1000
        latenciesMicros.append(UInt32(clamping: micros))
        if status != 200 { measuredNon200 += 1 }
    }

    func connectionFinished() {
        liveConnections -= 1
        if liveConnections == 0 { finished.succeed() }
    }
}

/// One connection of the run: send, wait for the whole answer, record, send the next.
final class LoadConnection: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let run: LoadRun
    private var sentAt: NIODeadline?
    private var status = 0
    private var receivedHead = false
    private var keepAlive = true
    private var answeredHere = 0
    private var done = false
    /// For a sampled signed request: its signature, the answer's signature header and body.
    private var checking: (request: String, answer: String?, body: [UInt8])?

    init(run: LoadRun) { self.run = run }

    func channelActive(context: ChannelHandlerContext) {
        send(context: context)
    }

    private func send(context: ChannelHandlerContext) {
        let request = run.requests.next(allocator: context.channel.allocator)
        run.sent += 1
        checking = nil
        if run.requests.endpoint.answersAreSigned, let signature = run.requests.lastSignature, run.sent % LoadRun.answerSample == 0 {
            checking = (String(decoding: signature.span.bytes.withUnsafeBytes { Array($0) }, as: UTF8.self), nil, [])
        }
        receivedHead = false
        sentAt = .now()
        // The head tells the response decoder the method; the bytes are the whole request.
        context.write(wrapOutboundOut(.head(run.requests.head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(request))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
            keepAlive = head.isKeepAlive
            receivedHead = true
            if checking != nil {
                let values = head.headers[RPCHeader.responseSignature]
                checking?.answer = values.count == 1 ? values[0] : nil
            }
        case .body(let bytes):
            if checking != nil { checking?.body += bytes.readableBytesView }
        case .end:
            let now = NIODeadline.now()
            if let sentAt { run.record(status: status, started: sentAt, finished: now) }
            if let checked = checking {
                run.answersChecked += 1
                let verified = checked.answer.map {
                    run.requests.answerChecker.verifiesResponse(
                        requestSignature: checked.request, status: status, body: checked.body, responseSignature: $0)
                } ?? false
                if !verified { run.answersUnauthenticated += 1 }
                checking = nil
            }
            sentAt = nil
            answeredHere += 1
            if now >= run.end {
                finish(context: context)
            } else if keepAlive {
                send(context: context)
            } else {
                context.close(promise: nil)  // channelInactive opens the next connection
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        guard !done else { return }
        if sentAt != nil {
            if !receivedHead && answeredHere > 0 { run.retried += 1 } else { run.dropped += 1 }
        }
        done = true
        if NIODeadline.now() >= run.end {
            run.connectionFinished()
        } else {
            run.connect()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    private func finish(context: ChannelHandlerContext) {
        done = true
        context.close(promise: nil)
        run.connectionFinished()
    }
}
