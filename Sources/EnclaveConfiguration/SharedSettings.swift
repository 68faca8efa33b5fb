/// Where the system runs; `dev` and `prod` are aliases.
public enum DeploymentEnvironment: String, Sendable {
    case local, staging, production
}

/// How the enclave is provided: `remote` is a real enclave; `dev-shim` a local stand-in.
public enum EnclaveMode: String, Sendable {
    case disabled
    case devShim = "dev-shim"
    case remote
}

/// Which process reads the configuration: the rules differ slightly (docs/configuration.md).
public enum ConfigurationRole: Sendable {
    case runtime, host
}

/// The keys shared by the enclave runtime and the hosts (docs/configuration.md, first table), validated.
public struct SharedSettings: Sendable {
    public var environment: DeploymentEnvironment
    public var mode: EnclaveMode
    /// UTF-8 bytes of ENCLAVE_RPC_SHARED_SECRET.
    public var sharedSecret: [UInt8]
    public var previousSharedSecret: [UInt8]?
    public var maxSkewSeconds: Int
    public var attestationRequired: Bool
    public var allowInsecureDevAttestation: Bool
    public var expectedRuntime: String
    public var allowedMeasurements: [String]
    public var attestationMaxAgeSeconds: Int

    public static let devMeasurement = "dev-local-enclave"
    public static let localSharedSecret = "local-dev-enclave-rpc-secret"
    /// The explicit local opt-in to dev-shim attestation (docs/configuration.md §2), as every local
    /// process of the tests, benchmarks and fuzzers sets it; the scripts read the same three keys
    /// from `scripts/lib/local-opt-in.env` (a test holds the two equal).
    public static let localOptIn = [
        "ALFRED_ENV": "local", "TEE_ATTESTATION_REQUIRED": "false", "TEE_ALLOW_INSECURE_DEV_ATTESTATION": "true",
    ]

    public var isLocal: Bool { environment == .local }

    /// Reads and checks every shared key in docs/configuration.md's order; the first broken rule is thrown.
    public static func load(_ env: EnvironmentSource, role: ConfigurationRole) throws(ConfigurationError) -> SharedSettings {
        let environment: DeploymentEnvironment
        switch env.string("ALFRED_ENV", default: "local").lowercased() {
        case "local", "dev": environment = .local
        case "staging": environment = .staging
        case "production", "prod": environment = .production
        default: throw ConfigurationError("ALFRED_ENV", "must be local (dev), staging or production (prod)")
        }
        let local = environment == .local

        let defaultMode: EnclaveMode = role == .runtime && local ? .devShim : .remote
        guard let mode = env.string("ENCLAVE_RUNTIME_MODE").map({ EnclaveMode(rawValue: $0.lowercased()) }) ?? defaultMode
        else { throw ConfigurationError("ENCLAVE_RUNTIME_MODE", "must be disabled, dev-shim or remote") }
        if mode == .disabled && role == .runtime {
            throw ConfigurationError("ENCLAVE_RUNTIME_MODE", "must not be disabled for the enclave runtime itself")
        }
        if mode != .remote && !local {
            throw ConfigurationError("ENCLAVE_RUNTIME_MODE", "must be remote outside local (dev-shim and disabled are local only)")
        }
        // A real enclave is never local by omission: local relaxes every guardrail (docs/configuration.md, ALFRED_ENV).
        if mode == .remote && env.string("ENCLAVE_RUNTIME_MODE") != nil && env.string("ALFRED_ENV") == nil {
            throw ConfigurationError(
                "ALFRED_ENV", "must be set explicitly when ENCLAVE_RUNTIME_MODE=remote (an unset environment never counts as local there)")
        }

        let minimumSecret = local ? 16 : 32
        func secret(_ key: String) throws(ConfigurationError) -> [UInt8]? {
            guard let value = env.string(key) else { return nil }
            guard value.utf8.count >= minimumSecret else {
                throw ConfigurationError(key, "must be at least \(minimumSecret) bytes\(local ? "" : " outside local")")
            }
            return Array(value.utf8)
        }
        guard let sharedSecret = try secret("ENCLAVE_RPC_SHARED_SECRET") ?? (local ? Array(localSharedSecret.utf8) : nil)
        else { throw ConfigurationError("ENCLAVE_RPC_SHARED_SECRET", "is required outside local") }
        let previous = try secret("ENCLAVE_RPC_SHARED_SECRET_PREVIOUS")

        let skew = try env.int("ENCLAVE_RPC_AUTH_MAX_SKEW_SECONDS", default: 30, in: 1...300, rule: "must be an integer from 1 to 300")

        let required = try env.bool("TEE_ATTESTATION_REQUIRED", default: true)
        if !local && !required { throw ConfigurationError("TEE_ATTESTATION_REQUIRED", "must be true outside local") }
        if mode == .devShim && required {
            throw ConfigurationError("TEE_ATTESTATION_REQUIRED", "must be false with dev-shim (explicit local opt-in)")
        }
        let insecure = try env.bool("TEE_ALLOW_INSECURE_DEV_ATTESTATION", default: false)
        if !local && insecure { throw ConfigurationError("TEE_ALLOW_INSECURE_DEV_ATTESTATION", "must be false outside local") }
        if mode == .devShim && !insecure {
            throw ConfigurationError("TEE_ALLOW_INSECURE_DEV_ATTESTATION", "must be true with dev-shim (explicit local opt-in)")
        }

        let runtime = env.string("TEE_EXPECTED_RUNTIME", default: "nitro")
        let measurements = env.list("TEE_ALLOWED_MEASUREMENTS", default: [devMeasurement])
        if !local && (measurements.isEmpty || measurements.contains(devMeasurement)) {
            throw ConfigurationError(
                "TEE_ALLOWED_MEASUREMENTS", "must list at least one measurement outside local, none equal to \(devMeasurement)")
        }
        let maxAge = try env.int("TEE_ATTESTATION_MAX_AGE_SECONDS", default: 300, in: 1...3600, rule: "must be an integer from 1 to 3600")

        return SharedSettings(
            environment: environment, mode: mode, sharedSecret: sharedSecret, previousSharedSecret: previous,
            maxSkewSeconds: skew, attestationRequired: required, allowInsecureDevAttestation: insecure,
            expectedRuntime: runtime, allowedMeasurements: measurements, attestationMaxAgeSeconds: maxAge)
    }
}
