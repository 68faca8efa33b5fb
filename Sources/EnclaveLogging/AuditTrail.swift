import EnclaveJSON
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One decision, as the audit trail records it: never a token, code, verifier, secret or body.
public struct AuditEvent: Sendable {
    /// The route decided on (the contract's path, or the api's route pattern).
    public var route: String
    /// `allowed`, or the refusal's error code.
    public var outcome: String
    public var userID: String?
    public var connectorID: String?
    /// The host's request id, as the request carried it.
    public var requestID: String?
    public var duration: Duration

    public static let allowed = "allowed"

    public init(
        route: String, outcome: String, userID: String? = nil, connectorID: String? = nil, requestID: String? = nil,
        duration: Duration
    ) {
        self.route = route
        self.outcome = outcome
        self.userID = userID
        self.connectorID = connectorID
        self.requestID = requestID
        self.duration = duration
    }
}

/// The audit trail: one JSON object per line and decision, with its time and a decision id of its
/// own. To stderr with the log by default, or appended to a file (0600, created when missing).
/// `record` returns only once the line is written (to the kernel: no fsync per event), so a caller
/// that records before answering never answers unaudited; false when it could not be written.
public final class AuditTrail: Sendable {
    private let descriptor: Int32
    private let process: String
    public let path: String?
    private let failing = Atomic<Bool>(false)
    private let decisionIDs = DecisionIDs()

    public struct OpenError: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { "the audit log cannot be opened for appending: \(reason)" }
    }

    /// `path` nil: stderr. A file that cannot be opened for appending is an error at start.
    public init(path: String?, process: String) throws(OpenError) {
        self.process = process
        self.path = path
        guard let path else {
            descriptor = 2
            return
        }
        let opened = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard opened >= 0 else { throw OpenError(reason: String(cString: strerror(errno))) }
        descriptor = opened
    }

    deinit {
        if descriptor != 2 { close(descriptor) }
    }

    /// Whether the latest event failed to be written.
    public var isFailing: Bool { failing.load(ordering: .relaxed) }

    @discardableResult
    public func record(_ event: AuditEvent) -> Bool {
        var line = render(event)
        line.append(0x0a)
        let written = LineOutput.write(line, to: descriptor)
        failing.store(!written, ordering: .relaxed)
        return written
    }

    func render(_ event: AuditEvent) -> [UInt8] {
        var json = JSONWriter(capacity: 384)
        json.beginObject()
        json.key("type"); json.string("audit")
        json.key("time"); JSONLogLine.writeTimestamp(WallClock.now(), to: &json)
        json.key("decision_id"); json.string(decisionIDs.next())
        json.key("process"); json.string(process)
        json.key("route"); json.string(event.route)
        json.key("outcome"); json.string(event.outcome)
        if let userID = event.userID { json.key("user_id"); json.string(userID) }
        if let connectorID = event.connectorID { json.key("connector_id"); json.string(connectorID) }
        if let requestID = event.requestID { json.key("request_id"); json.string(requestID) }
        json.key("duration_ms"); json.raw(Array(String((event.duration / .microseconds(1)).rounded() / 1000).utf8).span)
        json.endObject()
        return json.finish()
    }
}
