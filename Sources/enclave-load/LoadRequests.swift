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
}

/// Builds each request's bytes: signed requests get the current time and a nonce unique to this
/// run (pid and start time as a tag, then a counter), signed with the C core.
final class LoadRequests {
    let endpoint: LoadEndpoint
    let host: String
    let connector: (userID: String, connectorID: String)?
    private let signer: RPCSigner
    private let tag: String
    private var sequence: UInt64 = 0

    init(endpoint: LoadEndpoint, host: String, secret: String, connector: (String, String)?) throws {
        self.endpoint = endpoint
        self.host = host
        self.connector = connector
        signer = try RPCSigner(secret: secret)
        tag = String(getpid(), radix: 16) + "-" + String(Int(Date().timeIntervalSince1970), radix: 16)
    }

    /// The next request's head and body (HTTP/1.1 keep-alive).
    func next(allocator: ByteBufferAllocator) -> (HTTPRequestHead, ByteBuffer?) {
        sequence += 1
        let now = Int(Date().timeIntervalSince1970)
        let body: String
        switch endpoint {
        case .hello, .healthz, .document:
            return (HTTPRequestHead(version: .http1_1, method: .GET, uri: endpoint.path, headers: ["host": host]), nil)
        case .challenge:
            body = #"{"challenge_nonce":"\#(tag)-\#(sequence)","issued_at":\#(now),"expires_at":\#(now + 60),"operation_purpose":"decrypt","request_id":"load-\#(sequence)"}"#
        case .ping, .echo, .echoSigned:
            body = #"{"contract_version":"v1","request_id":"load-\#(sequence)"}"#
        case .exchange:
            let (user, connectorID) = connector!
            body = #"{"contract_version":"v1","request_id":"load-\#(sequence)","connector":{"user_id":"\#(user)","connector_id":"\#(connectorID)"}}"#
        }
        let bodyBytes = Array(body.utf8)
        var headers: HTTPHeaders = ["host": host, "content-type": "application/json", "content-length": String(bodyBytes.count)]
        if endpoint.isSigned {
            let timestamp = String(now)
            let nonce = "\(tag)-\(sequence)"
            let signature = signer.signature(path: endpoint.path, timestamp: timestamp, nonce: nonce, body: bodyBytes)
            headers.add(contentsOf: [
                ("x-alfred-rpc-version", "v1"), ("x-alfred-rpc-ts", timestamp), ("x-alfred-rpc-nonce", nonce),
                ("x-alfred-rpc-signature", signature),
            ])
        }
        var buffer = allocator.buffer(capacity: bodyBytes.count)
        buffer.writeBytes(bodyBytes)
        return (HTTPRequestHead(version: .http1_1, method: .POST, uri: endpoint.path, headers: headers), buffer)
    }
}
