import EnclaveConfiguration
import EnclaveCrypto
import Foundation
import Logging

/// The enclave runtime's whole configuration, read and validated once at startup.
///
/// Keys (defaults in brackets; docs/configuration.md has every rule): the shared keys of `SharedSettings`,
/// then ENCLAVE_RUNTIME_BIND_ADDR [127.0.0.1:8181], ENCLAVE_RUNTIME_MEASUREMENT [dev-local-enclave],
/// TEE_ATTESTATION_SIGNING_PRIVATE_KEY [dev-shim: fresh random], TEE_ATTESTATION_DOCUMENT_PATH /
/// TEE_ATTESTATION_DOCUMENT [remote: one required], ENCLAVE_DATA_KEY [local: <state>/data.key],
/// KMS_KEY_ID [kms/local/alfred-refresh-token], KMS_KEY_VERSION [1], ENCLAVE_DATA_KEY_PREVIOUS [none],
/// ENCLAVE_STATE_DIR [.enclave],
/// ENCLAVE_RPC_MAX_BODY_BYTES [65536], ENCLAVE_RPC_REPLAY_CAPACITY [1000000],
/// GOOGLE_OAUTH_CLIENT_ID / GOOGLE_OAUTH_CLIENT_SECRET [remote: required],
/// GOOGLE_OAUTH_TOKEN_URL / GOOGLE_OAUTH_REVOKE_URL [Google's], ENCLAVE_PROVIDER_TIMEOUT_MS [10000],
/// LOG_LEVEL [info], TEE_ATTESTATION_SOURCE [static], ENCLAVE_NSM_DEVICE [/dev/nsm],
/// ENCLAVE_DATABASE_URL [unset: SQLite and the in-memory replay cache], ENCLAVE_METRICS_BIND_ADDR
/// [unset: no metrics listener], ENCLAVE_AUDIT_LOG [unset: audit events on stderr],
/// ENCLAVE_ACCESS_TOKEN_CACHE_ENTRIES [10000; 0: off], ENCLAVE_ACCESS_TOKEN_CACHE_BYTES [16 MiB],
/// ENCLAVE_KMS_ENDPOINT / ENCLAVE_KMS_TIMEOUT_MS / AWS_* / ENCLAVE_IMDS_URL [with kms: values],
/// ENCLAVE_EGRESS_PROXY [direct], ENCLAVE_EGRESS_CA_FILE [local only].
public struct RuntimeConfiguration: Sendable {
    public var shared: SharedSettings
    public var bindAddress: BindAddress
    /// Ed25519 seed for evidence signing; nil means generate one at start (dev-shim and NSM).
    public var signingSeed: [UInt8]?
    /// The NSM device when documents come from the Nitro Secure Module (TEE_ATTESTATION_SOURCE=nsm).
    public var nsmDevice: String?
    /// The attestation document served in remote mode, already checked against the rules.
    public var remoteDocument: AttestationDocument?
    public var devMeasurement: String
    /// The data key; nil means the local key file in the state directory.
    public var dataKey: [UInt8]?
    /// ENCLAVE_DATA_KEY_PREVIOUS: earlier data keys by version, which still open their records
    /// (each is re-sealed under the current key by its next exchange). Secrets.
    public var previousDataKeys: [Int: [UInt8]]
    /// The `kms:` values still to be opened (docs/contract.md §3b); nil when there are none left.
    /// `SecretRelease` opens them into `dataKey`, `previousDataKeys` and `provider` before the
    /// runtime is built, which refuses a configuration that still has some.
    public var kms: KMSSettings?
    /// Whether the secrets came from KMS (`/healthz` "secrets").
    public var secretsFromKMS: Bool
    /// How outbound calls leave the runtime.
    public var egress: Egress
    /// ENCLAVE_RUNTIME_TLS=attested: the listener speaks TLS 1.3 only, its certificate made with
    /// the evidence key and carrying the document (docs/contract.md §2b).
    public var attestedTLS: Bool
    public var keyPolicy: KeyPolicy
    public var stateDirectory: String
    /// PostgreSQL for connectors and the replay guard, shared by a fleet; nil: SQLite and memory.
    public var databaseURL: DatabaseURL?
    /// The separate listener for GET /metrics; nil: no metrics are recorded.
    public var metricsBindAddress: BindAddress?
    /// The audit trail's file; nil: stderr, with the log.
    public var auditLogPath: String?
    public var maxBodyBytes: Int
    public var replayCapacity: Int
    /// The bounds of the access tokens kept in memory (docs/contract.md §7a); nil: none are kept.
    public var accessTokenCache: AccessTokenCacheBounds?
    public var provider: ProviderSettings?
    public var tokenURL: URL
    public var revokeURL: URL
    public var providerTimeoutMilliseconds: Int
    public var logLevel: Logger.Level

    /// `memoryBytes` is what the process may use (tests pass their own); the replay table must fit
    /// in half of it.
    public static func load(
        _ env: EnvironmentSource, memoryBytes: Int = SystemMemory.availableBytes()
    ) throws(ConfigurationError) -> RuntimeConfiguration {
        let shared = try SharedSettings.load(env, role: .runtime)
        let remote = shared.mode == .remote
        let local = shared.isLocal

        let bindText = env.string("ENCLAVE_RUNTIME_BIND_ADDR", default: "127.0.0.1:8181")
        guard let bind = BindAddress(bindText) else {
            throw ConfigurationError(
                "ENCLAVE_RUNTIME_BIND_ADDR", "must be host:port with an IPv4 or [IPv6] literal or localhost, port 1 to 65535")
        }
        let devMeasurement = env.string("ENCLAVE_RUNTIME_MEASUREMENT", default: SharedSettings.devMeasurement)
        guard EvidenceText.isValid(devMeasurement) else {
            throw ConfigurationError("ENCLAVE_RUNTIME_MEASUREMENT", "must hold no '|' and no control character")
        }

        let nsmDevice = try attestationSource(env, shared: shared)
        let seed = try env.base64Bytes("TEE_ATTESTATION_SIGNING_PRIVATE_KEY", count: 32, what: "a 32-byte Ed25519 seed")
        if remote && seed == nil && nsmDevice == nil {
            throw ConfigurationError("TEE_ATTESTATION_SIGNING_PRIVATE_KEY", "is required in remote mode")
        }

        var document: AttestationDocument?
        if remote && nsmDevice == nil {
            document = try loadRemoteDocument(env, shared: shared, seed: seed!)
        }

        var sealedSecrets: [KMSSecret] = []
        var dataKey: [UInt8]?
        if let text = env.string("ENCLAVE_DATA_KEY"), let sealed = try KMSSettings.ciphertext("ENCLAVE_DATA_KEY", text) {
            sealedSecrets.append(KMSSecret(variable: "ENCLAVE_DATA_KEY", slot: .dataKey, ciphertext: sealed))
        } else {
            dataKey = try env.base64Bytes("ENCLAVE_DATA_KEY", count: 32, what: "32 bytes (or kms: and a KMS ciphertext)")
            if remote && dataKey == nil { throw ConfigurationError("ENCLAVE_DATA_KEY", "is required in remote mode") }
        }

        let keyID = env.string("KMS_KEY_ID", default: "kms/local/alfred-refresh-token")
        let keyVersion = try env.int("KMS_KEY_VERSION", default: 1, in: 1...Int.max, rule: "must be an integer >= 1")
        let (previousDataKeys, sealedPrevious) = try previousDataKeys(env, currentVersion: keyVersion)
        sealedSecrets += sealedPrevious
        // Outside local an NSM runtime's data keys come from KMS only: a key the operator can read
        // opens every record the operator can copy (docs/configuration.md §3).
        if !local && nsmDevice != nil && (dataKey != nil || !previousDataKeys.isEmpty) {
            throw ConfigurationError(
                dataKey != nil ? "ENCLAVE_DATA_KEY" : "ENCLAVE_DATA_KEY_PREVIOUS",
                "must be kms: outside local with TEE_ATTESTATION_SOURCE=nsm (a plaintext data key is refused)")
        }
        let stateDirectory = env.string("ENCLAVE_STATE_DIR", default: ".enclave")
        let databaseURL = try env.string("ENCLAVE_DATABASE_URL").map { text throws(ConfigurationError) in
            try DatabaseURL.load("ENCLAVE_DATABASE_URL", text, local: local)
        }
        let metricsBind = try env.string("ENCLAVE_METRICS_BIND_ADDR").map { text throws(ConfigurationError) in
            guard let address = BindAddress(text) else {
                throw ConfigurationError(
                    "ENCLAVE_METRICS_BIND_ADDR", "must be host:port with an IPv4 or [IPv6] literal or localhost, port 1 to 65535")
            }
            guard address != bind else {
                throw ConfigurationError("ENCLAVE_METRICS_BIND_ADDR", "must differ from ENCLAVE_RUNTIME_BIND_ADDR (metrics never share the RPC listener)")
            }
            return address
        }
        let auditLogPath = env.string("ENCLAVE_AUDIT_LOG")
        let maxBody = try env.int(
            "ENCLAVE_RPC_MAX_BODY_BYTES", default: 65536, in: 1024...1_048_576, rule: "must be an integer from 1024 to 1048576")
        let capacity = try replayCapacity(env, memoryBytes: memoryBytes)
        let cacheEntries = try env.int(
            "ENCLAVE_ACCESS_TOKEN_CACHE_ENTRIES", default: 10000, in: 0...1_000_000, rule: "must be an integer from 0 (off) to 1000000")
        let cacheBytes = try env.int(
            "ENCLAVE_ACCESS_TOKEN_CACHE_BYTES", default: 16 << 20, in: (64 << 10)...(1 << 30),
            rule: "must be an integer from 65536 to 1073741824")

        let clientID = env.string("GOOGLE_OAUTH_CLIENT_ID")
        var clientSecret = env.string("GOOGLE_OAUTH_CLIENT_SECRET")
        if let text = clientSecret, let sealed = try KMSSettings.ciphertext("GOOGLE_OAUTH_CLIENT_SECRET", text) {
            sealedSecrets.append(KMSSecret(variable: "GOOGLE_OAUTH_CLIENT_SECRET", slot: .clientSecret, ciphertext: sealed))
            clientSecret = ""  // filled in by SecretRelease
        }
        let kms = try KMSSettings.load(env, secrets: sealedSecrets, nsm: nsmDevice != nil, local: local, keyID: keyID)
        let egress = try Egress.load(env, local: local)
        let attestedTLS: Bool
        switch env.string("ENCLAVE_RUNTIME_TLS", default: "off").lowercased() {
        case "off": attestedTLS = false
        case "attested": attestedTLS = true
        default: throw ConfigurationError("ENCLAVE_RUNTIME_TLS", "must be off or attested")
        }
        if remote || clientID != nil || clientSecret != nil {
            if clientID == nil { throw ConfigurationError("GOOGLE_OAUTH_CLIENT_ID", remote ? "is required in remote mode" : "is required when GOOGLE_OAUTH_CLIENT_SECRET is set") }
            if clientSecret == nil { throw ConfigurationError("GOOGLE_OAUTH_CLIENT_SECRET", remote ? "is required in remote mode" : "is required when GOOGLE_OAUTH_CLIENT_ID is set") }
        }
        func providerURL(_ key: String, _ fallback: String) throws(ConfigurationError) -> URL {
            let text = env.string(key, default: fallback)
            guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http",
                url.host != nil
            else { throw ConfigurationError(key, "must be an http(s) URL") }
            if !local && scheme != "https" { throw ConfigurationError(key, "must be https outside local") }
            // The PCRs measure the image, not its environment: outside local no setting may send a
            // refresh token or the client secret anywhere but Google (docs/configuration.md).
            if !local && text != fallback { throw ConfigurationError(key, "must be exactly \(fallback) outside local") }
            return url
        }
        let tokenURL = try providerURL("GOOGLE_OAUTH_TOKEN_URL", "https://oauth2.googleapis.com/token")
        let revokeURL = try providerURL("GOOGLE_OAUTH_REVOKE_URL", "https://oauth2.googleapis.com/revoke")
        let timeout = try env.int(
            "ENCLAVE_PROVIDER_TIMEOUT_MS", default: 10000, in: 100...60000, rule: "must be an integer from 100 to 60000")
        let levelText = env.string("LOG_LEVEL", default: "info").lowercased()
        guard let level = Logger.Level(rawValue: levelText) else {
            throw ConfigurationError("LOG_LEVEL", "must be one of trace, debug, info, notice, warning, error, critical")
        }

        return RuntimeConfiguration(
            shared: shared, bindAddress: bind, signingSeed: seed, nsmDevice: nsmDevice, remoteDocument: document,
            devMeasurement: devMeasurement,
            dataKey: dataKey, previousDataKeys: previousDataKeys, kms: kms, secretsFromKMS: false, egress: egress, attestedTLS: attestedTLS, keyPolicy: KeyPolicy(keyID: keyID, keyVersion: keyVersion), stateDirectory: stateDirectory,
            databaseURL: databaseURL, metricsBindAddress: metricsBind, auditLogPath: auditLogPath, maxBodyBytes: maxBody, replayCapacity: capacity,
            accessTokenCache: cacheEntries == 0 ? nil : AccessTokenCacheBounds(maxEntries: cacheEntries, maxBytes: cacheBytes),
            provider: clientID.flatMap { id in clientSecret.map { ProviderSettings(clientID: id, clientSecret: $0) } },
            tokenURL: tokenURL, revokeURL: revokeURL, providerTimeoutMilliseconds: timeout, logLevel: level)
    }

    /// ENCLAVE_DATA_KEY_PREVIOUS (docs/configuration.md §3): comma-separated `VERSION=KEY`, each
    /// version an integer from 1 to below KMS_KEY_VERSION, once, each key base64 of 32 bytes or a
    /// `kms:` ciphertext (returned apart, to be opened). A key is never named in a refusal.
    static func previousDataKeys(
        _ env: EnvironmentSource, currentVersion: Int
    ) throws(ConfigurationError) -> ([Int: [UInt8]], [KMSSecret]) {
        let variable = "ENCLAVE_DATA_KEY_PREVIOUS"
        var keys: [Int: [UInt8]] = [:]
        var sealed: [KMSSecret] = []
        var seen = Set<Int>()
        for entry in env.list(variable, default: []) {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let version = Int(parts[0]), version >= 1, version < currentVersion else {
                throw ConfigurationError(variable, "must be comma-separated VERSION=KEY, each VERSION an integer from 1 to below KMS_KEY_VERSION")
            }
            guard seen.insert(version).inserted else { throw ConfigurationError(variable, "names version \(version) twice") }
            if let ciphertext = try KMSSettings.ciphertext(variable, parts[1]) {
                sealed.append(KMSSecret(variable: variable, slot: .previousDataKey(version: version), ciphertext: ciphertext))
                continue
            }
            guard let key = Data(base64Encoded: parts[1]), key.count == 32 else {
                throw ConfigurationError(variable, "must give each VERSION a KEY that is base64 of 32 bytes or kms: (version \(version) does not)")
            }
            keys[version] = [UInt8](key)
        }
        return (keys, sealed)
    }

    /// TEE_ATTESTATION_SOURCE and ENCLAVE_NSM_DEVICE: the NSM device when documents come from the
    /// NSM (remote mode only; the evidence key is then made at start, so neither a signing key nor
    /// a document may be configured), nil for the static source.
    static func attestationSource(_ env: EnvironmentSource, shared: SharedSettings) throws(ConfigurationError) -> String? {
        switch env.string("TEE_ATTESTATION_SOURCE", default: "static").lowercased() {
        case "static": return nil
        case "nsm": break
        default: throw ConfigurationError("TEE_ATTESTATION_SOURCE", "must be static or nsm")
        }
        guard shared.mode == .remote else {
            throw ConfigurationError("TEE_ATTESTATION_SOURCE", "nsm is for remote mode only")
        }
        for key in ["TEE_ATTESTATION_SIGNING_PRIVATE_KEY", "TEE_ATTESTATION_DOCUMENT_PATH", "TEE_ATTESTATION_DOCUMENT"]
        where env.string(key) != nil {
            throw ConfigurationError(key, "must be unset with TEE_ATTESTATION_SOURCE=nsm (the key is made at start, documents come from the NSM)")
        }
        let device = env.string("ENCLAVE_NSM_DEVICE", default: "/dev/nsm")
        if device.hasPrefix("unix:") {
            guard shared.isLocal else {
                throw ConfigurationError("ENCLAVE_NSM_DEVICE", "may name a simulator's unix: socket only in local")
            }
            guard device.count > 5, device.utf8.count < 100 else { throw ConfigurationError("ENCLAVE_NSM_DEVICE", "unix: needs a socket path") }
        } else if !device.hasPrefix("/") {
            throw ConfigurationError("ENCLAVE_NSM_DEVICE", "must be a device path or, in local, unix:PATH")
        }
        return device
    }

    /// docs/configuration.md asks only for >= 1000. The table is allocated and written in full at start, so a
    /// capacity whose table does not fit in half the memory is refused here, with the largest that
    /// does, rather than crashing the allocation or pushing the machine into the OOM killer.
    static func replayCapacity(_ env: EnvironmentSource, memoryBytes: Int) throws(ConfigurationError) -> Int {
        let variable = "ENCLAVE_RPC_REPLAY_CAPACITY"
        let capacity = try env.int(variable, default: 1_000_000, in: 1000...Int.max, rule: "must be an integer >= 1000")
        let budget = memoryBytes / 2
        guard let bytes = ReplayCache.tableBytes(capacity: capacity), bytes <= budget else {
            throw ConfigurationError(
                variable,
                "must fit the replay table (32 to 64 bytes per nonce) in half of the \(memoryBytes >> 20) MiB of memory: "
                    + "at most \(ReplayCache.largestCapacity(tableBytes: budget))")
        }
        return capacity
    }

    /// Remote mode: the configured document must parse and agree with the expected runtime, the
    /// allowed measurements and the signing key, or the runtime does not start.
    static func loadRemoteDocument(
        _ env: EnvironmentSource, shared: SharedSettings, seed: [UInt8]
    ) throws(ConfigurationError) -> AttestationDocument {
        let variable: String
        let bytes: [UInt8]
        if let path = env.string("TEE_ATTESTATION_DOCUMENT_PATH") {
            variable = "TEE_ATTESTATION_DOCUMENT_PATH"
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigurationError(variable, "must name a readable file")
            }
            bytes = [UInt8](data)
        } else if let inline = env.string("TEE_ATTESTATION_DOCUMENT") {
            variable = "TEE_ATTESTATION_DOCUMENT"
            bytes = Array(inline.utf8)
        } else {
            throw ConfigurationError("TEE_ATTESTATION_DOCUMENT_PATH", "or TEE_ATTESTATION_DOCUMENT is required in remote mode")
        }
        guard let document = AttestationDocument(json: bytes) else {
            throw ConfigurationError(variable, "must be a JSON attestation document with non-empty runtime and measurement")
        }
        // Both are fields of every challenge's evidence string: a value the evidence cannot carry
        // would start a runtime whose every challenge fails (docs/contract.md §3 and §4).
        guard EvidenceText.isValid(document.runtime), EvidenceText.isValid(document.measurement) else {
            throw ConfigurationError(variable, "runtime and measurement must hold no '|' and no control character")
        }
        guard document.runtime.lowercased() == shared.expectedRuntime.lowercased() else {
            throw ConfigurationError(variable, "runtime must equal TEE_EXPECTED_RUNTIME")
        }
        guard shared.allowedMeasurements.contains(document.measurement) else {
            throw ConfigurationError(variable, "measurement must be listed in TEE_ALLOWED_MEASUREMENTS")
        }
        if let published = document.publicKey {
            guard let signer = try? ChallengeSigner(seed: seed), published == signer.publicKey else {
                throw ConfigurationError(variable, "public_key must match TEE_ATTESTATION_SIGNING_PRIVATE_KEY")
            }
        }
        return document
    }
}

/// The key id and version every sealed record is bound to; records under another are refused.
public struct KeyPolicy: Sendable, Equatable {
    public var keyID: String
    public var keyVersion: Int
}

/// The OAuth client the runtime authenticates to the provider with.
public struct ProviderSettings: Sendable {
    public var clientID: String
    public var clientSecret: String
}

/// ENCLAVE_ACCESS_TOKEN_CACHE_ENTRIES and ENCLAVE_ACCESS_TOKEN_CACHE_BYTES: the least recently used
/// token goes first when either is reached.
public struct AccessTokenCacheBounds: Sendable, Equatable {
    public var maxEntries: Int
    public var maxBytes: Int
}
