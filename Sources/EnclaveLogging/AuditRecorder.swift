/// The audit event of one decision, made the same way by the runtime and the api: the outcome is
/// the refusal's code, else `allowed` for a status below 400, else the status. A failed write is
/// reported to `onFailure` (the runtime counts and logs it, and refuses token RPCs meanwhile).
public struct AuditRecorder: Sendable {
    public let trail: AuditTrail
    let onFailure: @Sendable (_ route: String) -> Void

    public init(trail: AuditTrail, onFailure: @escaping @Sendable (_ route: String) -> Void = { _ in }) {
        self.trail = trail
        self.onFailure = onFailure
    }

    /// While true, the last event could not be written.
    public var isFailing: Bool { trail.isFailing }

    /// Writes the event; false when it could not be written.
    @discardableResult
    public func record(
        route: String, status: Int, refusal: String?, userID: String?, connectorID: String?, requestID: String?,
        providerCalled: Bool? = nil, since started: ContinuousClock.Instant
    ) -> Bool {
        let event = AuditEvent(
            route: route, outcome: refusal ?? (status < 400 ? AuditEvent.allowed : "\(status)"), userID: userID,
            connectorID: connectorID, requestID: requestID, providerCalled: providerCalled, duration: ContinuousClock.now - started)
        guard trail.record(event) else {
            onFailure(route)
            return false
        }
        return true
    }
}
