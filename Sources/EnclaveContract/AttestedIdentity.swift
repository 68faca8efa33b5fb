/// What the enclave reports with every successful RPC (`attested_identity`).
public struct AttestedIdentity: Sendable, Equatable, Codable {
    public var runtime: String
    public var measurement: String

    public init(runtime: String, measurement: String) {
        self.runtime = runtime
        self.measurement = measurement
    }
}
