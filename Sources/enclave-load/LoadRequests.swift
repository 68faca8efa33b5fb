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
/// written straight into one buffer (HTTP/1.1, keep-alive), with the fixed part prepared once:
/// the generator shares the machine's cores with the server, so what it spends per request is
/// taken from the server being measured.
final class LoadRequests {
    let endpoint: LoadEndpoint
    let connector: (userID: String, connectorID: String)?
    /// What the response decoder needs to know about each request (its method).
    let head: HTTPRequestHead
    private let signer: RPCSigner
    private let tag: String
    private let fixedPart: [UInt8]
    private var sequence: UInt64 = 0

    init(endpoint: LoadEndpoint, host: String, secret: String, connector: (String, String)?) throws {
        self.endpoint = endpoint
        self.connector = connector
        signer = try RPCSigner(secret: secret)
        tag = String(getpid(), radix: 16) + "-" + String(Int(Date().timeIntervalSince1970), radix: 16)
        let isGet = endpoint.isGet
        head = HTTPRequestHead(version: .http1_1, method: isGet ? .GET : .POST, uri: endpoint.path)
        fixedPart = Array("\(isGet ? "GET" : "POST") \(endpoint.path) HTTP/1.1\r\nhost: \(host)\r\n".utf8)
            + (isGet ? [] : Array("content-type: application/json\r\n".utf8))
    }

    /// The next request, whole.
    func next(allocator: ByteBufferAllocator) -> ByteBuffer {
        sequence += 1
        var buffer = allocator.buffer(capacity: 512)
        buffer.writeBytes(fixedPart)
        let now = Int(Date().timeIntervalSince1970)
        let body: String
        switch endpoint {
        case .hello, .healthz, .document:
            buffer.writeStaticString("\r\n")
            return buffer
        case .challenge:
            body = #"{"challenge_nonce":"\#(tag)-\#(sequence)","issued_at":\#(now),"expires_at":\#(now + 60),"operation_purpose":"decrypt","request_id":"load-\#(sequence)"}"#
        case .ping, .echo, .echoSigned:
            body = #"{"contract_version":"v1","request_id":"load-\#(sequence)"}"#
        case .exchange:
            let (user, connectorID) = connector!
            body = #"{"contract_version":"v1","request_id":"load-\#(sequence)","connector":{"user_id":"\#(user)","connector_id":"\#(connectorID)"}}"#
        }
        let bodyBytes = Array(body.utf8)
        buffer.writeString("content-length: \(bodyBytes.count)\r\n")
        if endpoint.isSigned {
            let timestamp = String(now)
            let nonce = "\(tag)-\(sequence)"
            let signature = signer.signature(path: endpoint.path, timestamp: timestamp, nonce: nonce, body: bodyBytes)
            buffer.writeString("x-alfred-rpc-version: v1\r\nx-alfred-rpc-ts: \(timestamp)\r\nx-alfred-rpc-nonce: \(nonce)\r\n")
            buffer.writeString("x-alfred-rpc-signature: \(signature)\r\n")
        }
        buffer.writeStaticString("\r\n")
        buffer.writeBytes(bodyBytes)
        return buffer
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
