import Foundation

/// ENCLAVE_EGRESS_PROXY and ENCLAVE_EGRESS_CA_FILE (docs/configuration.md): how outbound calls
/// (provider, KMS, IMDS) leave the runtime. Inside an enclave only the parent's vsock bridge leads
/// out, so every call is tunnelled through its HTTP CONNECT proxy, and TLS runs end to end inside
/// the tunnel, verified here: the parent carries bytes it cannot read or alter unseen.
public struct Egress: Sendable, Equatable {
    public struct Proxy: Sendable, Equatable {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    /// nil: connect directly.
    public var proxy: Proxy?
    /// Local only: extra PEM roots trusted for outbound TLS (test servers); nil: the system's only.
    public var extraRootsFile: String?

    public static let direct = Egress(proxy: nil, extraRootsFile: nil)

    public init(proxy: Proxy?, extraRootsFile: String?) {
        self.proxy = proxy
        self.extraRootsFile = extraRootsFile
    }

    public static func load(_ env: EnvironmentSource, local: Bool) throws(ConfigurationError) -> Egress {
        var proxy: Proxy?
        if let text = env.string("ENCLAVE_EGRESS_PROXY") {
            guard let parts = URLComponents(string: text), parts.scheme?.lowercased() == "http", let host = parts.host, !host.isEmpty,
                let port = parts.port, (1...65535).contains(port), parts.user == nil, parts.password == nil,
                parts.path.isEmpty || parts.path == "/", parts.query == nil, parts.fragment == nil
            else { throw ConfigurationError("ENCLAVE_EGRESS_PROXY", "must be http://host:port of an HTTP CONNECT proxy") }
            proxy = Proxy(host: host, port: port)
        }
        let roots = env.string("ENCLAVE_EGRESS_CA_FILE")
        if let roots {
            // A root the operator adds would let the operator's server pass as Google or KMS.
            guard local else { throw ConfigurationError("ENCLAVE_EGRESS_CA_FILE", "is allowed only when ALFRED_ENV is local") }
            guard let data = FileManager.default.contents(atPath: roots),
                String(decoding: data, as: UTF8.self).contains("-----BEGIN CERTIFICATE-----")
            else { throw ConfigurationError("ENCLAVE_EGRESS_CA_FILE", "must name a readable PEM file of certificates") }
        }
        return Egress(proxy: proxy, extraRootsFile: roots)
    }
}
