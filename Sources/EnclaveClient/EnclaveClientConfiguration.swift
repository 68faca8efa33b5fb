import EnclaveConfiguration
import EnclaveCrypto
import Foundation

/// How a host reaches and judges the enclave, read and validated once at startup.
///
/// Keys (defaults in brackets; docs/configuration.md has every rule): the shared keys of `SharedSettings`
/// (hosts default ENCLAVE_RUNTIME_MODE to remote), ENCLAVE_RUNTIME_BASE_URL [http://127.0.0.1:8181],
/// ENCLAVE_RUNTIME_PROBE_TIMEOUT_MS [2000], ENCLAVE_RUNTIME_PROBE_DEADLINE_MS [30000],
/// ENCLAVE_RPC_TIMEOUT_MS [15000], TEE_ATTESTATION_PUBLIC_KEY [required when attestation is required
/// and no PCRs are pinned], TEE_ALLOWED_PCRS [unset], TEE_NITRO_ROOT_CERTIFICATE [the AWS Nitro
/// Enclaves Root-G1], TEE_ALLOW_DEBUG_ENCLAVE [false].
public struct EnclaveClientConfiguration: Sendable {
    public var shared: SharedSettings
    public var baseURL: URL
    /// Each probe request.
    public var probeTimeoutMilliseconds: Int
    /// The startup probe's retries end here.
    public var probeDeadlineMilliseconds: Int
    /// The whole of each RPC call to the enclave, body included.
    public var rpcTimeoutMilliseconds: Int
    /// The pinned Ed25519 key evidence must verify with (raw 32 bytes).
    public var attestationPublicKey: [UInt8]?
    /// The PCR sets a Nitro document must satisfy one of.
    public var nitroPolicy: NitroPCRPolicy?
    /// The root every Nitro document must chain to (DER).
    public var nitroRootDER: [UInt8]
    public var allowDebugEnclave: Bool
    /// ENCLAVE_RUNTIME_TLS=attested: every connection to the enclave verified in its handshake
    /// (docs/contract.md §2b).
    public var attestedTLS: Bool

    public static func load(_ env: EnvironmentSource) throws(ConfigurationError) -> EnclaveClientConfiguration {
        let shared = try SharedSettings.load(env, role: .host)
        let urlText = env.string("ENCLAVE_RUNTIME_BASE_URL", default: "http://127.0.0.1:8181")
        guard let url = URL(string: urlText), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = url.host, !host.isEmpty
        else { throw ConfigurationError("ENCLAVE_RUNTIME_BASE_URL", "must be an http(s) URL") }
        if !shared.isLocal && scheme == "http" && !Self.isLoopback(host) {
            throw ConfigurationError("ENCLAVE_RUNTIME_BASE_URL", "must be https, or http to a loopback address, outside local")
        }
        let timeout = try env.int("ENCLAVE_RUNTIME_PROBE_TIMEOUT_MS", default: 2000, in: 1...Int(Int32.max), rule: "must be an integer > 0")
        let deadline = try env.int("ENCLAVE_RUNTIME_PROBE_DEADLINE_MS", default: 30000, in: 1...Int(Int32.max), rule: "must be an integer > 0")
        let rpcTimeout = try env.int(
            "ENCLAVE_RPC_TIMEOUT_MS", default: 15000, in: 100...120_000, rule: "must be an integer from 100 to 120000")
        let publicKey = try env.base64Bytes("TEE_ATTESTATION_PUBLIC_KEY", count: 32, what: "a 32-byte Ed25519 public key")
        var policy: NitroPCRPolicy?
        if let text = env.string("TEE_ALLOWED_PCRS") {
            do {
                policy = try NitroPCRPolicy(text)
            } catch {
                throw ConfigurationError("TEE_ALLOWED_PCRS", "must be sets of INDEX=HEX separated by ';' (\(error))")
            }
        }
        // A Nitro enclave's key is born at its start: hosts pin its PCRs instead of a key.
        if shared.attestationRequired && publicKey == nil && policy == nil && shared.mode != .disabled {
            throw ConfigurationError("TEE_ATTESTATION_PUBLIC_KEY", "is required when attestation is required and TEE_ALLOWED_PCRS is unset")
        }
        let root = try nitroRoot(env, local: shared.isLocal)
        let allowDebug = try env.bool("TEE_ALLOW_DEBUG_ENCLAVE", default: false)
        if allowDebug && !shared.isLocal { throw ConfigurationError("TEE_ALLOW_DEBUG_ENCLAVE", "must be false outside local") }
        let attestedTLS: Bool
        switch env.string("ENCLAVE_RUNTIME_TLS", default: "off").lowercased() {
        case "off":
            // A fleet pinned by PCRs outside local: plaintext to it would let the path read codes and tokens.
            if policy != nil && !shared.isLocal {
                throw ConfigurationError("ENCLAVE_RUNTIME_TLS", "must be attested outside local when TEE_ALLOWED_PCRS is set")
            }
            attestedTLS = false
        case "attested":
            guard scheme == "https" else { throw ConfigurationError("ENCLAVE_RUNTIME_TLS", "attested needs an https:// ENCLAVE_RUNTIME_BASE_URL") }
            attestedTLS = true
        default: throw ConfigurationError("ENCLAVE_RUNTIME_TLS", "must be off or attested")
        }
        return EnclaveClientConfiguration(
            shared: shared, baseURL: url, probeTimeoutMilliseconds: timeout, probeDeadlineMilliseconds: deadline,
            rpcTimeoutMilliseconds: rpcTimeout, attestationPublicKey: publicKey, nitroPolicy: policy, nitroRootDER: root,
            allowDebugEnclave: allowDebug, attestedTLS: attestedTLS)
    }

    /// Whether an enclave that serves the static attestation source (a configured document and
    /// evidence key, which whoever configured the runtime holds) is accepted: always in local,
    /// elsewhere whenever no PCRs are pinned (docs/contract.md §3a). Outside local the hosts say so at
    /// start and in `enclave_host_build_info`, so that an operator can see it (issue 31).
    public var acceptsStaticAttestation: Bool { nitroPolicy == nil || shared.isLocal }

    /// TEE_NITRO_ROOT_CERTIFICATE: a PEM file's certificate, or AWS's root built into the C core.
    /// Another root than AWS's only in local (an NSM simulator's).
    static func nitroRoot(_ env: EnvironmentSource, local: Bool) throws(ConfigurationError) -> [UInt8] {
        let aws = NitroVerifier.awsRootDER
        guard let path = env.string("TEE_NITRO_ROOT_CERTIFICATE") else { return aws }
        let variable = "TEE_NITRO_ROOT_CERTIFICATE"
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(variable, "must name a readable PEM file")
        }
        let body = text.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        guard text.contains("-----BEGIN CERTIFICATE-----"), let der = Data(base64Encoded: body), (try? NitroVerifier(rootDER: [UInt8](der))) != nil
        else { throw ConfigurationError(variable, "must hold one PEM certificate") }
        if !local && [UInt8](der) != aws {
            throw ConfigurationError(variable, "may name a root other than AWS's Nitro Enclaves Root-G1 only in local")
        }
        return [UInt8](der)
    }

    static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        return bare == "localhost" || bare == "::1" || bare.hasPrefix("127.") && BindAddress.isIPv4(Substring(bare))
    }
}
