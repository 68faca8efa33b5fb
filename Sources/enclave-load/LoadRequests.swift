import EnclaveCrypto
import Foundation
import NIOCore
import NIOHTTP1

/// The endpoints the load generator can drive, and the raw HTTP/1.1 request for each.
enum LoadEndpoint: String, CaseIterable {
    case hello, healthz, document, challenge, ping, exchange, echo
    /// The POST floor with a signed ping's exact headers and body: what the framework costs for a
    /// request of that shape before any of the runtime's own work.
    case echoSigned = "echo-signed"

    var path: String {
        switch self {
        case .hello: "/__bench/hello"
        case .healthz: "/healthz"
        case .document: "/v1/attestation/document"
        case .challenge: "/v1/attestation/challenge"
        case .ping: "/v1/rpc/ping"
        case .exchange: "/v1/rpc/google/token/exchange"
        case .echo, .echoSigned: "/__bench/echo"
        }
    }

    var isSigned: Bool { self == .ping || self == .exchange || self == .echoSigned }
    var isGet: Bool { self == .hello || self == .healthz || self == .document }
}

/// Builds each request's bytes: signed requests get the current time and a nonce unique to this
/// run (pid and start time as a tag, then a counter), signed with the C core. The request is
/// written straight into one buffer (HTTP/1.1, keep-alive), with the fixed parts prepared once and
/// no String built per request: the generator shares the machine's cores with the server, so what
/// it spends per request is taken from the server being measured.
final class LoadRequests {
    let endpoint: LoadEndpoint
    /// What the response decoder needs to know about each request (its method).
    let head: HTTPRequestHead
    private let signer: RPCSigner
    /// The nonce's prefix, `PID-TIME-` in hex; the request's sequence number follows.
    private let tag: [UInt8]
    private let fixedPart: [UInt8]
    private let method: [UInt8], path: [UInt8]
    /// What follows the request_id in an exchange body (the connector).
    private let exchangeTail: [UInt8]
    /// The body of the request being built, reused so that building one allocates nothing.
    private var body = ByteBufferAllocator().buffer(capacity: 256)
    private var sequence: UInt64 = 0

    init(endpoint: LoadEndpoint, host: String, secret: String, connector: (userID: String, connectorID: String)?) throws {
        self.endpoint = endpoint
        signer = try RPCSigner(secret: secret)
        tag = Array((String(getpid(), radix: 16) + "-" + String(Int(Date().timeIntervalSince1970), radix: 16) + "-").utf8)
        let isGet = endpoint.isGet
        head = HTTPRequestHead(version: .http1_1, method: isGet ? .GET : .POST, uri: endpoint.path)
        method = Array((isGet ? "GET" : "POST").utf8)
        path = Array(endpoint.path.utf8)
        fixedPart = Array("\(isGet ? "GET" : "POST") \(endpoint.path) HTTP/1.1\r\nhost: \(host)\r\n".utf8)
            + (isGet ? [] : Array("content-type: application/json\r\n".utf8))
        exchangeTail = connector.map {
            Array(#"","connector":{"user_id":"\#($0.userID)","connector_id":"\#($0.connectorID)"}}"#.utf8)
        } ?? []
    }

    /// The next request, whole.
    func next(allocator: ByteBufferAllocator) -> ByteBuffer {
        sequence += 1
        var buffer = allocator.buffer(capacity: 512)
        buffer.writeBytes(fixedPart)
        guard !endpoint.isGet else {
            buffer.writeStaticString("\r\n")
            return buffer
        }
        let now = Int(Date().timeIntervalSince1970)
        let sequenceText = String(sequence)  // a small string: stored inline, not allocated
        writeBody(sequence: sequenceText, now: now)
        buffer.writeStaticString("content-length: ")
        buffer.writeString(String(body.readableBytes))
        buffer.writeStaticString("\r\n")
        if endpoint.isSigned {
            buffer.writeStaticString("x-alfred-rpc-version: v1\r\nx-alfred-rpc-ts: ")
            let timestampStart = buffer.writerIndex
            buffer.writeString(String(now))
            let timestamp = timestampStart..<buffer.writerIndex
            buffer.writeStaticString("\r\nx-alfred-rpc-nonce: ")
            let nonceStart = buffer.writerIndex
            buffer.writeBytes(tag)
            buffer.writeString(sequenceText)
            let nonce = nonceStart..<buffer.writerIndex
            buffer.writeStaticString("\r\nx-alfred-rpc-signature: ")
            let signature = sign(buffer, timestamp: timestamp, nonce: nonce)
            buffer.writeBytes(signature.span.bytes)
            buffer.writeStaticString("\r\n")
        }
        buffer.writeStaticString("\r\n")
        let body = self.body
        buffer.writeBytes(body.readableBytesSpan)
        return buffer
    }

    /// The signature of the request in `buffer`, whose signed timestamp and nonce are read back
    /// from the bytes just written.
    private func sign(_ buffer: ByteBuffer, timestamp: Range<Int>, nonce: Range<Int>) -> InlineArray<64, UInt8> {
        let (method, path, body) = (self.method, self.path, self.body)
        let written = buffer.readableBytesSpan
        return signer.signatureHex(
            method: method.span.bytes, path: path.span.bytes, timestamp: written.extracting(timestamp),
            nonce: written.extracting(nonce), body: body.readableBytesSpan)
    }

    private func writeBody(sequence: String, now: Int) {
        body.clear()
        switch endpoint {
        case .hello, .healthz, .document:
            break
        case .challenge:
            body.writeStaticString(#"{"challenge_nonce":""#)
            body.writeBytes(tag)
            body.writeString(sequence)
            body.writeStaticString(#"","issued_at":"#)
            body.writeString(String(now))
            body.writeStaticString(#","expires_at":"#)
            body.writeString(String(now + 60))
            body.writeStaticString(#","operation_purpose":"decrypt","request_id":"load-"#)
            body.writeString(sequence)
            body.writeStaticString(#""}"#)
        case .ping, .echo, .echoSigned:
            body.writeStaticString(#"{"contract_version":"v1","request_id":"load-"#)
            body.writeString(sequence)
            body.writeStaticString(#""}"#)
        case .exchange:
            body.writeStaticString(#"{"contract_version":"v1","request_id":"load-"#)
            body.writeString(sequence)
            body.writeBytes(exchangeTail)
        }
    }
}

/// Stands where NIO's request encoder would: the request arrives already encoded as a body part,
/// and the head and end parts (which the response decoder observes) write nothing.
final class PreEncodedRequestWriter: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = ByteBuffer

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .body(.byteBuffer(let bytes)): context.write(wrapOutboundOut(bytes), promise: promise)
        case .head, .end: promise?.succeed()
        case .body(.fileRegion): promise?.fail(ChannelError.operationUnsupported)
        }
    }
}
