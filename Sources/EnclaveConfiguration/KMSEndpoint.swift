import Foundation

/// ENCLAVE_KMS_ENDPOINT (docs/configuration.md): where `kms:` secrets are opened. KMS hands back
/// the data key, so outside local the endpoint must be AWS KMS itself: https to
/// `kms.REGION.amazonaws.com`, `kms-fips.REGION.amazonaws.com` or a VPC endpoint name ending in
/// `.vpce.amazonaws.com`, on the default port, with no user, path or query. Otherwise the
/// operator's own server could hand the runtime a data key of the operator's choosing (issue 31).
public enum KMSEndpoint {
    public static let variable = "ENCLAVE_KMS_ENDPOINT"

    /// The default for a region: `https://kms.REGION.amazonaws.com`.
    public static func defaultURL(region: String) -> String { "https://kms.\(region).amazonaws.com" }

    /// `text` nil: the default. In local any http(s) URL with a host (test servers on loopback).
    public static func load(_ text: String?, region: String, local: Bool) throws(ConfigurationError) -> URL {
        let text = text ?? defaultURL(region: region)
        guard let parts = URLComponents(string: text), let scheme = parts.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = parts.host?.lowercased(), !host.isEmpty, let url = URL(string: text)
        else { throw ConfigurationError(variable, "must be an http(s) URL") }
        if local { return url }
        let awsHost = host == "kms.\(region).amazonaws.com" || host == "kms-fips.\(region).amazonaws.com"
            || (host.hasSuffix(".vpce.amazonaws.com") && host.count > ".vpce.amazonaws.com".count && !host.hasPrefix("."))
        guard scheme == "https", awsHost, parts.user == nil, parts.password == nil, parts.port == nil || parts.port == 443,
            parts.path.isEmpty || parts.path == "/", parts.query == nil, parts.fragment == nil
        else {
            throw ConfigurationError(
                variable,
                "must be https://kms.\(region).amazonaws.com, https://kms-fips.\(region).amazonaws.com or an AWS VPC endpoint (*.vpce.amazonaws.com) outside local")
        }
        return url
    }
}
