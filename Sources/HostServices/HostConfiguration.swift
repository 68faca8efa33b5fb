import EnclaveClient
import EnclaveConfiguration
import Foundation

/// The api's and the worker's whole configuration, read and validated once at startup.
///
/// Keys (defaults in brackets; docs/configuration.md has every rule): those of `EnclaveClientConfiguration`,
/// then API_BIND_ADDR [127.0.0.1:8080], API_INTERNAL_TOKEN [local-dev-api-token in local only],
/// HOST_STATE_DIR [.host], HOST_DATABASE_URL [unset: SQLite in HOST_STATE_DIR], WORKER_TICK_SECONDS [30],
/// API_METRICS_BIND_ADDR and WORKER_METRICS_BIND_ADDR [unset: no metrics listener].
public struct HostConfiguration: Sendable {
    public var client: EnclaveClientConfiguration
    public var apiBindAddress: BindAddress
    public var apiInternalToken: String
    public var stateDirectory: String
    /// PostgreSQL for the job store shared by every api and worker; nil: SQLite in the state directory.
    public var databaseURL: DatabaseURL?
    /// Each host's separate metrics listener; nil: no metrics are recorded.
    public var apiMetricsBindAddress: BindAddress?
    public var workerMetricsBindAddress: BindAddress?
    public var workerTickSeconds: Int

    public var shared: SharedSettings { client.shared }

    public static let localAPIToken = "local-dev-api-token"

    public static func load(_ env: EnvironmentSource) throws(ConfigurationError) -> HostConfiguration {
        let client = try EnclaveClientConfiguration.load(env)
        let local = client.shared.isLocal
        guard let bind = BindAddress(env.string("API_BIND_ADDR", default: "127.0.0.1:8080")) else {
            throw ConfigurationError("API_BIND_ADDR", "must be host:port with an IPv4 or [IPv6] literal or localhost, port 1 to 65535")
        }
        let token = env.string("API_INTERNAL_TOKEN") ?? (local ? localAPIToken : nil)
        guard let token else { throw ConfigurationError("API_INTERNAL_TOKEN", "is required outside local") }
        if !local && token.utf8.count < 32 { throw ConfigurationError("API_INTERNAL_TOKEN", "must be at least 32 bytes outside local") }
        let databaseURL = try env.string("HOST_DATABASE_URL").map { text throws(ConfigurationError) in
            try DatabaseURL.load("HOST_DATABASE_URL", text, local: local)
        }
        func metricsAddress(_ key: String) throws(ConfigurationError) -> BindAddress? {
            guard let text = env.string(key) else { return nil }
            guard let address = BindAddress(text) else {
                throw ConfigurationError(key, "must be host:port with an IPv4 or [IPv6] literal or localhost, port 1 to 65535")
            }
            guard address != bind else { throw ConfigurationError(key, "must differ from API_BIND_ADDR (metrics never share the API listener)") }
            return address
        }
        let apiMetrics = try metricsAddress("API_METRICS_BIND_ADDR")
        let workerMetrics = try metricsAddress("WORKER_METRICS_BIND_ADDR")
        let tick = try env.int("WORKER_TICK_SECONDS", default: 30, in: 1...86400, rule: "must be an integer >= 1")
        return HostConfiguration(
            client: client, apiBindAddress: bind, apiInternalToken: token,
            stateDirectory: env.string("HOST_STATE_DIR", default: ".host"), databaseURL: databaseURL,
            apiMetricsBindAddress: apiMetrics, workerMetricsBindAddress: workerMetrics, workerTickSeconds: tick)
    }
}
