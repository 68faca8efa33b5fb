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
    /// Token RPCs of the runtime: whether this decision called the OAuth provider (an exchange
    /// answered from memory, or one that waited on another's call, did not). nil: not said.
    public var providerCalled: Bool?
    public var duration: Duration

    public static let allowed = "allowed"

    public init(
        route: String, outcome: String, userID: String? = nil, connectorID: String? = nil, requestID: String? = nil,
        providerCalled: Bool? = nil, duration: Duration
    ) {
        self.route = route
        self.outcome = outcome
        self.userID = userID
        self.connectorID = connectorID
        self.requestID = requestID
        self.providerCalled = providerCalled
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

    /// `path` nil: stderr. Otherwise the file is held as the data key is (docs/configuration.md,
    /// ENCLAVE_AUDIT_LOG): created 0600, or an existing regular file, not a link, of this user,
    /// mode 0600, or a character device; anything else is refused at start rather than written
    /// through or repaired.
    public init(path: String?, process: String) throws(OpenError) {
        self.process = process
        self.path = path
        guard let path else {
            descriptor = 2
            return
        }
        descriptor = try Self.openPrivate(path)
    }

    static func openPrivate(_ path: String) throws(OpenError) -> Int32 {
        let created = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if created >= 0 {
            guard fchmod(created, 0o600) == 0 else {  // the umask may have narrowed it further
                close(created)
                throw OpenError(reason: "\(path) could not be made mode 0600")
            }
            return created
        }
        guard errno == EEXIST else { throw OpenError(reason: "\(path): \(String(cString: strerror(errno)))") }
        let opened = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard opened >= 0 else {
            if errno == ELOOP { throw OpenError(reason: "\(path) must be a regular file, not a link") }
            throw OpenError(reason: "\(path): \(String(cString: strerror(errno)))")
        }
        var status = stat()
        // A character device (/dev/null to discard, /dev/full in tests) is the kernel's, not a
        // file anyone could rewrite; whoever runs the parent holds stderr, the default, anyway.
        if fstat(opened, &status) == 0 && status.st_mode & S_IFMT == S_IFCHR { return opened }
        let rule: String? =
            fstat(opened, &status) != 0 ? "cannot be examined"
            : status.st_mode & S_IFMT != S_IFREG ? "must be a regular file, not a link"
            : status.st_uid != geteuid() ? "must be owned by the runtime's user"
            : status.st_mode & 0o7777 != 0o600 ? "must have mode 0600" : nil
        if let rule {
            close(opened)
            throw OpenError(reason: "\(path) \(rule)")
        }
        return opened
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
        if let providerCalled = event.providerCalled { json.key("provider_called"); json.bool(providerCalled) }
        json.key("duration_ms"); json.raw(Array(String((event.duration / .microseconds(1)).rounded() / 1000).utf8).span)
        json.endObject()
        return json.finish()
    }
}
