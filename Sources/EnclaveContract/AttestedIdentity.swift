import EnclaveJSON

/// What the enclave reports with every successful RPC (`attested_identity`, docs/contract.md §5).
public struct AttestedIdentity: WireBody, Equatable {
    public let runtime: String
    public let measurement: String
    /// This identity as JSON text, rendered once: it is the same in every answer of a process.
    private let rendered: [UInt8]

    public init(runtime: String, measurement: String) {
        self.runtime = runtime
        self.measurement = measurement
        var json = JSONWriter(capacity: 128)
        json.beginObject()
        json.key("runtime"); json.string(runtime)
        json.key("measurement"); json.string(measurement)
        json.endObject()
        rendered = json.finish()
    }

    public init?(json: JSONValue) {
        guard let runtime = json["runtime"]?.string, let measurement = json["measurement"]?.string else { return nil }
        self.init(runtime: runtime, measurement: measurement)
    }

    public func write(to json: inout JSONWriter) { json.raw(rendered.span) }

    public static func == (a: Self, b: Self) -> Bool { a.runtime == b.runtime && a.measurement == b.measurement }
}
