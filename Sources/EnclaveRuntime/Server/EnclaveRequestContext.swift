import Hummingbird
import NIOCore

/// The path exactly as sent, without the query.
func pathWithoutQuery(_ request: Request) -> String {
    let target = request.head.path ?? "/"
    guard let query = target.firstIndex(of: "?") else { return target }
    return String(target[..<query])
}

/// Per-request context: what authentication established, and what the access log reports.
public struct EnclaveRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The path exactly as sent, without the query; set once by `ContractRouter` (it is both the
    /// route key and the canonical message's PATH).
    var path = ""
    /// Filled in while the request is handled; read by the access log line.
    let log = RequestLogFields()

    public init(source: Source) {
        coreContext = .init(source: source)
    }
}

/// Fields of the access log line and the audit event that only the handlers learn. One instance
/// per request, written and read by that request's task only.
final class RequestLogFields: @unchecked Sendable {
    var requestID: String?
    var errorCode: String?
    /// What an authenticated request names (audit events only, never the access log).
    var userID: String?
    var connectorID: String?
    /// Whether this token RPC called the provider (audit events only).
    var providerCalled = false
}
