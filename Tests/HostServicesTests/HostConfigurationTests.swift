import EnclaveClient
import EnclaveConfiguration
import EnclaveCrypto
import Foundation
import HostServices
import Testing
import TestSupport

private let pinnedKey = Data(repeating: 3, count: 32).base64EncodedString()
private let productionHost: [String: String] = [
    "ALFRED_ENV": "production", "ENCLAVE_RPC_SHARED_SECRET": String(repeating: "s", count: 32),
    "TEE_ALLOWED_MEASUREMENTS": "pcr0-abc123", "TEE_ATTESTATION_PUBLIC_KEY": pinnedKey,
    "ENCLAVE_RUNTIME_BASE_URL": "https://enclave.internal:8181", "API_INTERNAL_TOKEN": String(repeating: "t", count: 32),
]

private func rejected(_ env: [String: String]) -> String? {
    do {
        _ = try HostConfiguration.load(EnvironmentSource(env))
        return nil
    } catch {
        return error.variable
    }
}

@Suite("Host configuration guardrails")
struct HostConfigurationTests {
    @Test("A complete production host configuration is accepted; http to loopback is allowed")
    func accepted() throws {
        let configuration = try HostConfiguration.load(EnvironmentSource(productionHost))
        #expect(configuration.shared.mode == .remote && configuration.client.attestationPublicKey?.count == 32)
        #expect(configuration.client.probeTimeoutMilliseconds == 2000 && configuration.client.probeDeadlineMilliseconds == 30000)
        #expect(configuration.workerTickSeconds == 30 && configuration.stateDirectory == ".host")
        #expect(configuration.client.rpcTimeoutMilliseconds == 15000)
        for edge in ["100", "120000"] {
            #expect(try HostConfiguration.load(EnvironmentSource(productionHost.merging(["ENCLAVE_RPC_TIMEOUT_MS": edge]) { $1 })).client.rpcTimeoutMilliseconds == Int(edge))
        }
        for loopback in ["http://127.0.0.1:8181", "http://localhost:8181", "http://[::1]:8181"] {
            #expect(rejected(productionHost.merging(["ENCLAVE_RUNTIME_BASE_URL": loopback]) { $1 }) == nil, "\(loopback)")
        }
    }

    @Test("Local hosts default to remote mode, so the secure defaults need a pinned key")
    func localDefaults() throws {
        #expect(rejected([:]) == "TEE_ATTESTATION_PUBLIC_KEY")
        let local = try HostConfiguration.load(EnvironmentSource(["TEE_ATTESTATION_PUBLIC_KEY": pinnedKey]))
        #expect(local.apiInternalToken == "local-dev-api-token" && local.shared.mode == .remote)
        let disabled = try HostConfiguration.load(EnvironmentSource(["ENCLAVE_RUNTIME_MODE": "disabled"]))
        #expect(disabled.shared.mode == .disabled)
    }

    @Test("Outside local a host accepts the static attestation source exactly when no PCRs are pinned")
    func acceptsStaticAttestation() throws {
        #expect(try HostConfiguration.load(EnvironmentSource(productionHost)).client.acceptsStaticAttestation)
        let pcrs = "0=" + String(repeating: "ab", count: 48)
        let pinned = try HostConfiguration.load(EnvironmentSource(productionHost.merging(["TEE_ALLOWED_PCRS": pcrs, "ENCLAVE_RUNTIME_TLS": "attested"]) { $1 }))
        #expect(!pinned.client.acceptsStaticAttestation)
        let local = try HostConfiguration.load(EnvironmentSource(["TEE_ALLOWED_PCRS": pcrs]))
        #expect(local.client.acceptsStaticAttestation, "local lets a static document through even with PCRs pinned")
    }

    @Test("A host with ENCLAVE_RUNTIME_MODE=remote needs ALFRED_ENV set; without the mode an unset environment is local")
    func remoteNeedsAnExplicitEnvironment() throws {
        #expect(rejected(["ENCLAVE_RUNTIME_MODE": "remote", "TEE_ATTESTATION_PUBLIC_KEY": pinnedKey]) == "ALFRED_ENV")
        #expect(rejected(["ENCLAVE_RUNTIME_MODE": "remote", "ALFRED_ENV": "local", "TEE_ATTESTATION_PUBLIC_KEY": pinnedKey]) == nil)
        #expect(try HostConfiguration.load(EnvironmentSource(["TEE_ATTESTATION_PUBLIC_KEY": pinnedKey])).shared.isLocal)
    }

    @Test("ENCLAVE_RUNTIME_TLS: off by default, attested needs https, and outside local with PCRs pinned nothing else (exit 78)")
    func attestedTLS() throws {
        #expect(try HostConfiguration.load(EnvironmentSource(productionHost)).client.attestedTLS == false)
        let attested = productionHost.merging(["ENCLAVE_RUNTIME_TLS": "attested"]) { $1 }
        #expect(try HostConfiguration.load(EnvironmentSource(attested)).client.attestedTLS)
        #expect(rejected(attested.merging(["ENCLAVE_RUNTIME_BASE_URL": "http://127.0.0.1:8181"]) { $1 }) == "ENCLAVE_RUNTIME_TLS")
        #expect(rejected(productionHost.merging(["ENCLAVE_RUNTIME_TLS": "on"]) { $1 }) == "ENCLAVE_RUNTIME_TLS")
        let pcrs = productionHost.merging(["TEE_ALLOWED_PCRS": "0=" + String(repeating: "ab", count: 48)]) { $1 }
        #expect(rejected(pcrs) == "ENCLAVE_RUNTIME_TLS", "plaintext to a PCR-pinned fleet outside local")
        #expect(rejected(pcrs.merging(["ENCLAVE_RUNTIME_TLS": "attested"]) { $1 }) == nil)
        #expect(try HostConfiguration.load(EnvironmentSource(["TEE_ALLOWED_PCRS": "0=" + String(repeating: "ab", count: 48)])).client.attestedTLS == false,
                "local may pin PCRs over plain HTTP (the simulator, dev-nitro)")
    }

    @Test("Nitro: a PCR policy pins the enclave instead of a key; another root and debug enclaves in local only")
    func nitroSettings() throws {
        let pcrs = "0=\(String(repeating: "ab", count: 48)),1=\(String(repeating: "cd", count: 48)) ; 0=\(String(repeating: "ef", count: 48))"
        var pinnedPCRs = productionHost.merging(["TEE_ALLOWED_PCRS": pcrs, "ENCLAVE_RUNTIME_TLS": "attested"]) { $1 }
        pinnedPCRs["TEE_ATTESTATION_PUBLIC_KEY"] = nil
        let configuration = try HostConfiguration.load(EnvironmentSource(pinnedPCRs))
        #expect(configuration.client.nitroPolicy?.text == pcrs && configuration.client.nitroRootDER == NitroVerifier.awsRootDER)
        #expect(!configuration.client.allowDebugEnclave)
        #expect(rejected(pinnedPCRs.merging(["TEE_ALLOWED_PCRS": " ; "]) { $1 }) == "TEE_ALLOWED_PCRS")
        #expect(rejected(pinnedPCRs.merging(["TEE_ALLOWED_PCRS": "0=xyz"]) { $1 }) == "TEE_ALLOWED_PCRS")
        #expect(rejected(pinnedPCRs.merging(["TEE_ALLOW_DEBUG_ENCLAVE": "true"]) { $1 }) == "TEE_ALLOW_DEBUG_ENCLAVE")
        // Neither a key nor PCRs: nothing to pin the enclave with.
        #expect(rejected(pinnedPCRs.merging(["TEE_ALLOWED_PCRS": ""]) { $1 }) == "TEE_ATTESTATION_PUBLIC_KEY")
        // A root of one's own (the simulator's) only in local; AWS's own root as PEM is fine anywhere.
        let directory = temporaryDirectory()
        let awsPEM = directory + "/aws.pem", otherPEM = directory + "/other.pem"
        let awsBody = Data(NitroVerifier.awsRootDER).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        try Data("-----BEGIN CERTIFICATE-----\n\(awsBody)\n-----END CERTIFICATE-----\n".utf8).write(to: URL(fileURLWithPath: awsPEM))
        #expect(try HostConfiguration.load(EnvironmentSource(pinnedPCRs.merging(["TEE_NITRO_ROOT_CERTIFICATE": awsPEM]) { $1 })).client.nitroRootDER
            == NitroVerifier.awsRootDER)
        // Another certificate: a genuine document's regional intermediate.
        let intermediate = try NitroAttestationDocument(parsing: try NitroVectors.bytes("evervault_beta_valid-attestation-doc.cbor")).cabundle[1]
        let otherBody = Data(intermediate).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        try Data("-----BEGIN CERTIFICATE-----\n\(otherBody)\n-----END CERTIFICATE-----\n".utf8).write(to: URL(fileURLWithPath: otherPEM))
        #expect(rejected(pinnedPCRs.merging(["TEE_NITRO_ROOT_CERTIFICATE": otherPEM]) { $1 }) == "TEE_NITRO_ROOT_CERTIFICATE")
        let local = try HostConfiguration.load(EnvironmentSource([
            "ALFRED_ENV": "local", "TEE_ALLOWED_PCRS": pcrs, "TEE_NITRO_ROOT_CERTIFICATE": otherPEM, "TEE_ALLOW_DEBUG_ENCLAVE": "true",
        ]))
        #expect(local.client.nitroRootDER == intermediate && local.client.allowDebugEnclave)
        #expect(rejected(pinnedPCRs.merging(["TEE_NITRO_ROOT_CERTIFICATE": directory + "/missing.pem"]) { $1 }) == "TEE_NITRO_ROOT_CERTIFICATE")
    }

    static let rejections: [(String, [String: String], String)] = [
        ("dev-shim", ["ENCLAVE_RUNTIME_MODE": "dev-shim"], "ENCLAVE_RUNTIME_MODE"),
        ("disabled", ["ENCLAVE_RUNTIME_MODE": "disabled"], "ENCLAVE_RUNTIME_MODE"),
        ("plain http to a remote host", ["ENCLAVE_RUNTIME_BASE_URL": "http://enclave.internal:8181"], "ENCLAVE_RUNTIME_BASE_URL"),
        ("http to a private address", ["ENCLAVE_RUNTIME_BASE_URL": "http://10.0.0.5:8181"], "ENCLAVE_RUNTIME_BASE_URL"),
        ("not a URL", ["ENCLAVE_RUNTIME_BASE_URL": "enclave"], "ENCLAVE_RUNTIME_BASE_URL"),
        ("no pinned key", ["TEE_ATTESTATION_PUBLIC_KEY": ""], "TEE_ATTESTATION_PUBLIC_KEY"),
        ("job store off the machine unencrypted", ["HOST_DATABASE_URL": "postgres://h:pw@10.0.0.9/jobs?sslmode=prefer"], "HOST_DATABASE_URL"),
        ("pinned key wrong size", ["TEE_ATTESTATION_PUBLIC_KEY": Data(count: 31).base64EncodedString()], "TEE_ATTESTATION_PUBLIC_KEY"),
        ("dev measurement", ["TEE_ALLOWED_MEASUREMENTS": "pcr0-abc123,dev-local-enclave"], "TEE_ALLOWED_MEASUREMENTS"),
        ("attestation not required", ["TEE_ATTESTATION_REQUIRED": "false"], "TEE_ATTESTATION_REQUIRED"),
        ("insecure dev attestation", ["TEE_ALLOW_INSECURE_DEV_ATTESTATION": "true"], "TEE_ALLOW_INSECURE_DEV_ATTESTATION"),
        ("no api token", ["API_INTERNAL_TOKEN": ""], "API_INTERNAL_TOKEN"),
        ("short api token", ["API_INTERNAL_TOKEN": "short-token"], "API_INTERNAL_TOKEN"),
        ("short secret", ["ENCLAVE_RPC_SHARED_SECRET": "short-secret-0123"], "ENCLAVE_RPC_SHARED_SECRET"),
        ("probe timeout zero", ["ENCLAVE_RUNTIME_PROBE_TIMEOUT_MS": "0"], "ENCLAVE_RUNTIME_PROBE_TIMEOUT_MS"),
        ("probe deadline zero", ["ENCLAVE_RUNTIME_PROBE_DEADLINE_MS": "0"], "ENCLAVE_RUNTIME_PROBE_DEADLINE_MS"),
        ("bad api bind", ["API_BIND_ADDR": "api:8080"], "API_BIND_ADDR"),
        ("tick zero", ["WORKER_TICK_SECONDS": "0"], "WORKER_TICK_SECONDS"),
        ("rpc timeout below 100", ["ENCLAVE_RPC_TIMEOUT_MS": "99"], "ENCLAVE_RPC_TIMEOUT_MS"),
        ("rpc timeout above 120000", ["ENCLAVE_RPC_TIMEOUT_MS": "120001"], "ENCLAVE_RPC_TIMEOUT_MS"),
        ("rpc timeout not a number", ["ENCLAVE_RPC_TIMEOUT_MS": "15s"], "ENCLAVE_RPC_TIMEOUT_MS"),
    ]

    @Test("Staging and production host guardrails", arguments: rejections)
    func productionRejected(name: String, override: [String: String], variable: String) {
        for environment in ["production", "staging"] {
            let env = productionHost.merging(override) { $1 }.merging(["ALFRED_ENV": environment]) { $1 }
            #expect(rejected(env) == variable, "\(name) in \(environment)")
        }
    }
}
