import EnclaveContract
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
        // The floors of enclave-runtime-bench (EnclaveBenchmarkRoutes' FloorRoutes).
        case .hello: "/__bench/hello"
        case .echo, .echoSigned: "/__bench/echo"
        case .healthz: ContractRoute.healthz.path
        case .document: ContractRoute.attestationDocument.path
        case .challenge: ContractRoute.attestationChallenge.path
        case .ping: ContractRoute.ping.path
        case .exchange: ContractRoute.exchange.path
        }
    }

    var isGet: Bool { self == .hello || self == .healthz || self == .document }

    /// Signed RPCs, whose answers carry the enclave's response signature (the floors do not).
    var answersAreSigned: Bool { self == .ping || self == .exchange }
}

/// Builds each request's bytes: signed requests get the current time and a nonce unique to this
/// run (pid and start time as a tag, then a counter), signed with the C core. The request is
/// written straight into one buffer (HTTP/1.1, keep-alive) in a few writes, with the fixed parts
/// prepared once and no String allocated for a signed request: the generator shares the machine's
/// cores with the server, so what it spends per request is taken from the server being measured.
final class LoadRequests {
    let endpoint: LoadEndpoint
    /// What the response decoder needs to know about each request (its method).
    let head: HTTPRequestHead
    private let signer: RPCSigner
    /// The nonce's prefix, `PID-TIME-` in hex; the request's sequence number follows.
    private let tag: [UInt8]
    /// Up to the value of `content-length` (POST) or the end of the head (GET).
    private let fixedPart: [UInt8]
    private let method: [UInt8], path: [UInt8]
    /// An RPC body is `bodyHead`, the sequence number, then `bodyTail` (the connector for exchange).
    private let bodyHead = Array(#"{"contract_version":"v1","request_id":"load-"#.utf8)
    private let bodyTail: [UInt8]
    /// Where the signature goes until it is known, and the end of the head.
    private let signaturePlaceholder = [UInt8](repeating: UInt8(ascii: "0"), count: 64) + Array("\r\n\r\n".utf8)
    private var sequence: UInt64 = 0
    /// The signed headers' names and separators, in the order they are written.
    private static let versionField = Array("\r\n\(RPCHeader.version): \(contractVersion)\r\n\(RPCHeader.timestamp): ".utf8)
    private static let nonceField = Array("\r\n\(RPCHeader.nonce): ".utf8)
    private static let signatureField = Array("\r\n\(RPCHeader.signature): ".utf8)
    /// The signature of the last signed request `next` built, for checking its answer (CONTRACT 2a).
    private(set) var lastSignature: InlineArray<64, UInt8>?
    /// The shared secret's signer, which also checks answers.
    var answerChecker: RPCSigner { signer }

    init(endpoint: LoadEndpoint, host: String, secret: String, connector: (userID: String, connectorID: String)?) throws {
        self.endpoint = endpoint
        signer = try RPCSigner(secret: secret)
        tag = Array((String(getpid(), radix: 16) + "-" + String(Int(Date().timeIntervalSince1970), radix: 16) + "-").utf8)
        let isGet = endpoint.isGet
        head = HTTPRequestHead(version: .http1_1, method: isGet ? .GET : .POST, uri: endpoint.path)
        method = Array(head.method.rawValue.utf8)
        path = Array(endpoint.path.utf8)
        fixedPart = Array("\(head.method.rawValue) \(endpoint.path) HTTP/1.1\r\nhost: \(host)\r\n".utf8)
            + Array((isGet ? "\r\n" : "content-type: application/json\r\ncontent-length: ").utf8)
        bodyTail = connector.map {
            Array(#"","connector":{"user_id":"\#($0.userID)","connector_id":"\#($0.connectorID)"}}"#.utf8)
        } ?? Array(#""}"#.utf8)
    }

    /// The next request, whole.
    func next(allocator: ByteBufferAllocator) -> ByteBuffer {
        sequence += 1
        var buffer = allocator.buffer(capacity: 512)
        buffer.writeBytes(fixedPart)
        // A small string: stored inline, not allocated.
        let sequenceText = String(sequence)
        lastSignature = nil
        switch endpoint {
        case .hello, .healthz, .document: break
        case .challenge: writeChallenge(into: &buffer, sequence: sequenceText)
        case .echo: writeRPC(into: &buffer, sequence: sequenceText)
        case .ping, .echoSigned, .exchange: writeSignedRPC(into: &buffer, sequence: sequenceText)
        }
        return buffer
    }

    private func writeRPC(into buffer: inout ByteBuffer, sequence: String) {
        writeRPCBodyLength(into: &buffer, sequence: sequence)
        buffer.writeStaticString("\r\n\r\n")
        writeRPCBody(into: &buffer, sequence: sequence)
    }

    /// The signed headers, with the signature written last over the bytes already in `buffer`.
    private func writeSignedRPC(into buffer: inout ByteBuffer, sequence: String) {
        writeRPCBodyLength(into: &buffer, sequence: sequence)
        buffer.writeBytes(Self.versionField)
        let timestamp = writtenRange(in: &buffer) { $0.writeString(String(Int(Date().timeIntervalSince1970))) }
        buffer.writeBytes(Self.nonceField)
        let nonce = writtenRange(in: &buffer) { $0.writeBytes(tag); $0.writeString(sequence) }
        buffer.writeBytes(Self.signatureField)
        let signatureAt = buffer.writerIndex
        buffer.writeBytes(signaturePlaceholder)
        let body = writtenRange(in: &buffer) { writeRPCBody(into: &$0, sequence: sequence) }
        let signature = sign(buffer, timestamp: timestamp, nonce: nonce, body: body)
        buffer.setBytes(signature.span.bytes, at: signatureAt)
        lastSignature = signature
    }

    /// The value of `content-length` for the body `writeRPCBody` writes.
    private func writeRPCBodyLength(into buffer: inout ByteBuffer, sequence: String) {
        buffer.writeString(String(bodyHead.count + sequence.utf8.count + bodyTail.count))
    }

    private func writeRPCBody(into buffer: inout ByteBuffer, sequence: String) {
        buffer.writeBytes(bodyHead)
        buffer.writeString(sequence)
        buffer.writeBytes(bodyTail)
    }

    /// A fresh challenge for the runtime to sign (unsigned: no RPC headers).
    private func writeChallenge(into buffer: inout ByteBuffer, sequence: String) {
        let now = Int(Date().timeIntervalSince1970)
        let body = #"{"challenge_nonce":"\#(String(decoding: tag, as: UTF8.self))\#(sequence)","issued_at":\#(now),"expires_at":\#(now + 60),"operation_purpose":"decrypt","request_id":"load-\#(sequence)"}"#
        buffer.writeString(String(body.utf8.count))
        buffer.writeStaticString("\r\n\r\n")
        buffer.writeString(body)
    }

    /// The byte range that `write` adds to `buffer`.
    private func writtenRange(in buffer: inout ByteBuffer, _ write: (inout ByteBuffer) -> Void) -> Range<Int> {
        let start = buffer.writerIndex
        write(&buffer)
        return start..<buffer.writerIndex
    }

    private func sign(_ buffer: ByteBuffer, timestamp: Range<Int>, nonce: Range<Int>, body: Range<Int>) -> InlineArray<64, UInt8> {
        // Locals: a span cannot borrow a class's stored property for the length of the call.
        let (method, path) = (self.method, self.path)
        let written = buffer.readableBytesSpan
        return signer.signatureHex(
            method: method.span.bytes, path: path.span.bytes, timestamp: written.extracting(timestamp),
            nonce: written.extracting(nonce), body: written.extracting(body))
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
