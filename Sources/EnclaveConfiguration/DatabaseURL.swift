import Foundation

/// A `postgres://` or `postgresql://` URL (ENCLAVE_DATABASE_URL, HOST_DATABASE_URL), read as libpq
/// reads one: `postgres://user:password@host:port/database?sslmode=...`, the host a name, an IPv4
/// literal, a bracketed IPv6 literal, or absent for the default Unix socket directory; the query
/// parameters `host` (a socket directory when it starts with `/`), `port`, `sslmode`,
/// `sslrootcert` and `application_name`. Any other parameter is refused, as libpq refuses it. As in
/// libpq, sslmode does not apply to a Unix socket.
///
/// The whole URL is a secret (it may carry a password): no error names any part of it, and the
/// value has no description that prints it.
public struct DatabaseURL: Sendable, Equatable, CustomStringConvertible {
    public enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        /// The socket file itself: `<directory>/.s.PGSQL.<port>`, as the server names it.
        case unixSocket(path: String)
    }

    /// libpq's modes: `disable`, `allow` and `prefer` do not require encryption; `require` does
    /// without checking the certificate; `verify-ca` checks the chain; `verify-full` also the name.
    public enum TLSMode: String, Sendable, Equatable, CaseIterable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"

        public var requiresEncryption: Bool { self == .require || self == .verifyCA || self == .verifyFull }
        /// Whether the server's certificate is checked: `require` encrypts to whoever answers, so
        /// anyone on the network path could rewrite rows (issue 31: replay rows).
        public var verifiesServer: Bool { self == .verifyCA || self == .verifyFull }
    }

    public var endpoint: Endpoint
    public var user: String
    public var password: String?
    public var database: String
    public var tlsMode: TLSMode
    /// PEM file of the roots that verify the server (verify-ca, verify-full); nil: the system's.
    public var rootCertificatePath: String?
    public var applicationName: String?

    public var description: String { "DatabaseURL(redacted)" }

    /// On loopback or a Unix socket: the only places a server may be reached unencrypted outside local.
    public var isLocalTransport: Bool {
        switch endpoint {
        case .unixSocket: true
        case .tcp(let host, _): Self.isLoopback(host)
        }
    }

    static let defaultSocketDirectory = "/var/run/postgresql"

    /// Parses `text` and applies docs/configuration.md's rule for `variable`: outside local the server is on
    /// loopback, a Unix socket, or reached with sslmode=verify-full or verify-ca.
    public static func load(_ variable: String, _ text: String, local: Bool) throws(ConfigurationError) -> DatabaseURL {
        let url = try parse(variable, text)
        if !local && !url.isLocalTransport && !url.tlsMode.verifiesServer {
            throw ConfigurationError(
                variable, "must reach a server off this machine with sslmode=verify-full (or verify-ca) outside local")
        }
        return url
    }

    static func parse(_ variable: String, _ text: String) throws(ConfigurationError) -> DatabaseURL {
        func fail(_ rule: String) -> ConfigurationError { ConfigurationError(variable, rule) }
        let lower = text.lowercased()
        let rest: Substring
        if lower.hasPrefix("postgres://") {
            rest = text.dropFirst("postgres://".count)
        } else if lower.hasPrefix("postgresql://") {
            rest = text.dropFirst("postgresql://".count)
        } else {
            throw fail("must be a postgres:// or postgresql:// URL")
        }
        guard !rest.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 || $0 == 0x7f } ?? false }) else {
            throw fail("must not contain blanks or control characters")
        }
        // authority [/database] [?query]; no fragment.
        guard !rest.contains("#") else { throw fail("must not have a #fragment") }
        let queryStart = rest.firstIndex(of: "?")
        let beforeQuery = rest[..<(queryStart ?? rest.endIndex)]
        let query = queryStart.map { rest[rest.index(after: $0)...] } ?? ""
        let slash = beforeQuery.firstIndex(of: "/")
        let authority = beforeQuery[..<(slash ?? beforeQuery.endIndex)]
        let path = slash.map { beforeQuery[beforeQuery.index(after: $0)...] } ?? ""

        // userinfo@hostport; the password may itself hold '@' only percent-encoded, as in libpq.
        var user: String?, password: String?
        var hostPort = authority
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                user = try decode(userInfo[..<colon], fail)
                password = try decode(userInfo[userInfo.index(after: colon)...], fail)
            } else {
                user = try decode(userInfo, fail)
            }
        }

        var host: String?, port: Int?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw fail("has an unclosed [IPv6] host") }
            let literal = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
            guard literal.contains(":"), literal.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                throw fail("has an invalid [IPv6] host")
            }
            host = String(literal)
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw fail("has text after the [IPv6] host") }
                port = try portNumber(after.dropFirst(), fail)
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = try hostPort[..<colon].isEmpty ? nil : decode(hostPort[..<colon], fail)
            port = try portNumber(hostPort[hostPort.index(after: colon)...], fail)
        } else if !hostPort.isEmpty {
            host = try decode(hostPort, fail)
        }
        guard !hostPort.contains(",") else { throw fail("must name one host (several hosts are not supported)") }

        var database = try path.isEmpty ? nil : decode(path, fail)
        var tlsMode = TLSMode.prefer
        var rootCertificate: String?, applicationName: String?
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            guard let equals = pair.firstIndex(of: "=") else { throw fail("has a query parameter without a value") }
            let name = pair[..<equals]
            let value = try decode(pair[pair.index(after: equals)...], fail)
            switch name {
            case "sslmode":
                guard let mode = TLSMode(rawValue: value) else {
                    throw fail("sslmode must be disable, allow, prefer, require, verify-ca or verify-full")
                }
                tlsMode = mode
            case "host": host = value
            case "port": port = try portNumber(Substring(value), fail)
            case "dbname": database = value
            case "user": user = value
            case "sslrootcert": rootCertificate = value
            case "application_name": applicationName = value
            default:
                // The name is the URL's structure, not its secret; it is shown to help fix it.
                let shown = name.allSatisfy { $0.isLetter || $0 == "_" } && name.count <= 40 ? String(name) : "(unnamed)"
                throw fail("has a query parameter this runtime does not support: \(shown)")
            }
        }
        guard let user, !user.isEmpty else { throw fail("must name a user (postgres://USER@host/database)") }
        let portValue = port ?? 5432
        let endpoint: Endpoint
        if let host, host.hasPrefix("/") {
            endpoint = .unixSocket(path: (host as NSString).appendingPathComponent(".s.PGSQL.\(portValue)"))
        } else if let host, !host.isEmpty {
            endpoint = .tcp(host: host, port: portValue)
        } else {
            endpoint = .unixSocket(path: defaultSocketDirectory + "/.s.PGSQL.\(portValue)")
        }
        if case .unixSocket(let path) = endpoint, path.utf8.count >= 108 {
            throw fail("names a Unix socket path longer than the system allows")
        }
        return DatabaseURL(
            endpoint: endpoint, user: user, password: password, database: database ?? user, tlsMode: tlsMode,
            rootCertificatePath: rootCertificate, applicationName: applicationName)
    }

    private static func decode(_ text: Substring, _ fail: (String) -> ConfigurationError) throws(ConfigurationError) -> String {
        guard let decoded = String(text).removingPercentEncoding else { throw fail("has invalid %-encoding") }
        return decoded
    }

    private static func portNumber(_ text: Substring, _ fail: (String) -> ConfigurationError) throws(ConfigurationError) -> Int {
        guard let port = Int(text), (1...65535).contains(port), text.allSatisfy(\.isASCII) else {
            throw fail("must have a port from 1 to 65535")
        }
        return port
    }

    static func isLoopback(_ host: String) -> Bool {
        let lower = host.lowercased()
        if lower == "localhost" || lower == "::1" { return true }
        return BindAddress.isIPv4(Substring(lower)) && lower.hasPrefix("127.")
    }
}
