import EnclaveConfiguration
@testable import EnclaveRuntime
import Foundation
@testable import HostServices
import Testing
import TestSupport

/// ENCLAVE_DATABASE_URL and HOST_DATABASE_URL: libpq's URL form, docs/configuration.md's transport rule, and
/// the URL treated as the secret it is.
@Suite("Database URLs")
struct DatabaseURLTests {
    static func parse(_ text: String, local: Bool = true) -> Result<DatabaseURL, ConfigurationError> {
        Result { () throws(ConfigurationError) in try DatabaseURL.load("ENCLAVE_DATABASE_URL", text, local: local) }
    }

    @Test("libpq's forms: TCP with %-encoded credentials, [IPv6], socket directories, defaults")
    func forms() throws {
        let tcp = try Self.parse("postgres://enclave:p%40ss%2Fw:rd@db.internal:6432/tokens?sslmode=verify-full&sslrootcert=/etc/ca.pem").get()
        #expect(tcp.endpoint == .tcp(host: "db.internal", port: 6432))
        #expect(tcp.user == "enclave" && tcp.password == "p@ss/w:rd" && tcp.database == "tokens")
        #expect(tcp.tlsMode == .verifyFull && tcp.rootCertificatePath == "/etc/ca.pem")

        let v6 = try Self.parse("postgresql://u@[::1]/d").get()
        #expect(v6.endpoint == .tcp(host: "::1", port: 5432) && v6.password == nil && v6.tlsMode == .prefer && v6.isLocalTransport)

        let socket = try Self.parse("postgres://u@/d?host=/run/pg&port=6000").get()
        #expect(socket.endpoint == .unixSocket(path: "/run/pg/.s.PGSQL.6000") && socket.isLocalTransport)
        let encodedSocket = try Self.parse("postgres://u@%2Frun%2Fpg/d").get()
        #expect(encodedSocket.endpoint == .unixSocket(path: "/run/pg/.s.PGSQL.5432"))
        let defaults = try Self.parse("POSTGRES://u@").get()
        #expect(defaults.endpoint == .unixSocket(path: "/var/run/postgresql/.s.PGSQL.5432") && defaults.database == "u")
        #expect(try Self.parse("postgres://x@h/d?user=u&dbname=e&application_name=fleet").get().applicationName == "fleet")
    }

    static let malformed: [(String, String)] = [
        ("mysql://u@h/d", "postgres:// or postgresql://"),
        ("postgres://h/d", "must name a user"),
        ("postgres://u@h:0/d", "port from 1 to 65535"),
        ("postgres://u@h:99999/d", "port from 1 to 65535"),
        ("postgres://u@h:54x/d", "port from 1 to 65535"),
        ("postgres://u@h/d?sslmode=sometimes", "sslmode must be"),
        ("postgres://u@h/d?options=-c%20x", "does not support: options"),
        ("postgres://u@h/d?sslmode", "without a value"),
        ("postgres://u@h1,h2/d", "one host"),
        ("postgres://u@[::1/d", "unclosed"),
        ("postgres://u@h/d#frag", "fragment"),
        ("postgres://u@h/d%zz", "%-encoding"),
        ("postgres://u@h/ d", "blanks"),
    ]

    @Test("Malformed URLs are refused naming the rule", arguments: malformed)
    func refused(text: String, rule: String) {
        guard case .failure(let error) = Self.parse(text) else {
            Issue.record("accepted \(text)")
            return
        }
        #expect(error.variable == "ENCLAVE_DATABASE_URL")
        #expect(error.rule.contains(rule), "\(error.rule)")
    }

    @Test("Outside local: loopback, a Unix socket, or sslmode=verify-full or verify-ca (require verifies no certificate)")
    func transportRule() throws {
        for accepted in [
            "postgres://u:pw@127.0.0.1/d", "postgres://u:pw@localhost/d", "postgres://u:pw@[::1]:5433/d", "postgres://u@/d?host=/run/pg",
            "postgres://u:pw@10.0.0.5/d?sslmode=verify-ca",
            "postgres://u:pw@db.internal/d?sslmode=verify-full",
        ] {
            #expect((try? Self.parse(accepted, local: false).get()) != nil, "\(accepted)")
        }
        for refused in ["postgres://u:pw@db.internal/d", "postgres://u:pw@10.0.0.5/d?sslmode=prefer", "postgres://u:pw@db/d?sslmode=disable",
                        "postgres://u:pw@128.0.0.1/d?sslmode=allow", "postgres://u:pw@db.internal/d?sslmode=require"] {
            guard case .failure(let error) = Self.parse(refused, local: false) else {
                Issue.record("accepted \(refused)")
                continue
            }
            #expect(error.rule.contains("sslmode=verify-full (or verify-ca)"))
            #expect((try? Self.parse(refused, local: true).get()) != nil, "local allows \(refused)")
        }
    }

    @Test("Neither an error nor the value's description shows any part of the URL")
    func neverEchoed() {
        let secret = "Sup3rSecretPw"
        let samples = [
            "postgres://user:\(secret)@dbhost-\(secret):5432/d?sslmode=nope", "postgres://user:\(secret)@h/d?\(secret)=1",
            "postgres://user:\(secret)@h:\(secret)/d", "postgres://:\(secret)@h/d", "redis://\(secret)",
            "postgres://user:\(secret)@public.example/d",
        ]
        for text in samples {
            guard case .failure(let error) = Self.parse(text, local: false) else {
                Issue.record("accepted a sample")
                continue
            }
            #expect(!error.description.contains(secret) && !error.description.contains("dbhost") && !error.description.contains("public.example"))
        }
        let url = try! Self.parse("postgres://user:\(secret)@h/d").get()
        #expect(!"\(url)".contains(secret) && !String(reflecting: url).contains("user:"))
    }

    @Test("The runtime and the hosts read their keys under the same rules")
    func bothProcesses() throws {
        let runtime = try RuntimeConfiguration.load(EnvironmentSource(localEnvironment(["ENCLAVE_DATABASE_URL": "postgres://e:pw@127.0.0.1/enclave"])))
        #expect(runtime.databaseURL?.database == "enclave")
        #expect(try RuntimeConfiguration.load(EnvironmentSource(localEnvironment())).databaseURL == nil)
        #expect(throws: ConfigurationError.self) {
            try RuntimeConfiguration.load(EnvironmentSource(localEnvironment(["ENCLAVE_DATABASE_URL": "sqlite:///x"])))
        }
        let hosts = try HostConfiguration.load(EnvironmentSource([
            "HOST_DATABASE_URL": "postgresql://h:pw@localhost/jobs", "TEE_ATTESTATION_PUBLIC_KEY": Data(repeating: 1, count: 32).base64EncodedString(),
        ]))
        #expect(hosts.databaseURL?.database == "jobs" && hosts.databaseURL?.user == "h")
    }
}
