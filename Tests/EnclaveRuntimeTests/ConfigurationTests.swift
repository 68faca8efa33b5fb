import EnclaveConfiguration
import EnclaveCrypto
@testable import EnclaveRuntime
import Foundation
import Testing
import TestSupport

/// A valid remote configuration for staging/production, which each rejection case breaks once.
private let remoteSeed = Data((0..<32).map { UInt8($0) }).base64EncodedString()
private let remotePublicKey = Data(try! ChallengeSigner(seed: (0..<32).map { UInt8($0) }).publicKey).base64EncodedString()
private let remoteDocument = #"{"runtime":"nitro","measurement":"pcr0-abc123","issued_at":1767225600,"signature":"c2ln","public_key":"\#(remotePublicKey)"}"#
private let remoteBase: [String: String] = [
    "ALFRED_ENV": "production", "ENCLAVE_RUNTIME_MODE": "remote",
    "ENCLAVE_RPC_SHARED_SECRET": String(repeating: "s", count: 32),
    "TEE_ALLOWED_MEASUREMENTS": "pcr0-abc123, pcr0-def456",
    "TEE_ATTESTATION_SIGNING_PRIVATE_KEY": remoteSeed, "TEE_ATTESTATION_DOCUMENT": remoteDocument,
    "ENCLAVE_DATA_KEY": Data(repeating: 7, count: 32).base64EncodedString(),
    "GOOGLE_OAUTH_CLIENT_ID": "client", "GOOGLE_OAUTH_CLIENT_SECRET": "client-secret",
]

let testKeyARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

private func load(_ env: [String: String]) -> Result<RuntimeConfiguration, ConfigurationError> {
    Result { () throws(ConfigurationError) in try RuntimeConfiguration.load(EnvironmentSource(env)) }
}

private func rejectedVariable(_ env: [String: String]) -> String? {
    if case .failure(let error) = load(env) { return error.variable }
    return nil
}

@Suite("Runtime configuration: every rule of docs/configuration.md")
struct ConfigurationTests {
    @Test("Local defaults with the runbook's opt-in start in dev-shim")
    func localDefaults() throws {
        let configuration = try load(localEnvironment()).get()
        #expect(configuration.shared.environment == .local && configuration.shared.mode == .devShim)
        #expect(configuration.shared.sharedSecret == Array("local-dev-enclave-rpc-secret".utf8))
        #expect(configuration.shared.maxSkewSeconds == 30 && configuration.shared.attestationMaxAgeSeconds == 300)
        #expect(configuration.bindAddress == BindAddress("127.0.0.1:8181"))
        #expect(configuration.maxBodyBytes == 65536 && configuration.replayCapacity == 1_000_000)
        #expect(configuration.keyPolicy == KeyPolicy(keyID: "kms/local/alfred-refresh-token", keyVersion: 1))
        #expect(configuration.provider == nil && configuration.providerTimeoutMilliseconds == 10000)
        #expect(configuration.logLevel == .info)
    }

    @Test("The secure defaults alone refuse even a local start")
    func secureDefaultsRefuseDevShim() {
        #expect(rejectedVariable([:]) == "TEE_ATTESTATION_REQUIRED")
        #expect(rejectedVariable(["TEE_ATTESTATION_REQUIRED": "false"]) == "TEE_ALLOW_INSECURE_DEV_ATTESTATION")
    }

    @Test("A complete remote production configuration is accepted, aliases included")
    func remoteAccepted() throws {
        let configuration = try load(remoteBase).get()
        #expect(configuration.remoteDocument?.measurement == "pcr0-abc123")
        #expect(configuration.shared.allowedMeasurements == ["pcr0-abc123", "pcr0-def456"])
        #expect(try load(remoteBase.merging(["ALFRED_ENV": "prod"]) { $1 }).get().shared.environment == .production)
        #expect(try load(remoteBase.merging(["ALFRED_ENV": "staging"]) { $1 }).get().shared.environment == .staging)
        #expect(try load(localEnvironment(["ALFRED_ENV": "dev"])).get().shared.environment == .local)
    }

    @Test("TEE_ATTESTATION_SOURCE=nsm: remote only, no configured key or document, the NSM device, unix: sockets in local only")
    func nsmSource() throws {
        // Outside local an NSM runtime's data key is a KMS ciphertext (KMSConfigurationTests).
        var nsm = remoteBase.merging(["TEE_ATTESTATION_SOURCE": "nsm", "ENCLAVE_DATA_KEY": "kms:AQIDBA==", "KMS_KEY_ID": testKeyARN]) { $1 }
        nsm["TEE_ATTESTATION_SIGNING_PRIVATE_KEY"] = nil
        nsm["TEE_ATTESTATION_DOCUMENT"] = nil
        let configuration = try load(nsm).get()
        #expect(configuration.nsmDevice == "/dev/nsm" && configuration.remoteDocument == nil && configuration.signingSeed == nil)
        #expect(try load(nsm.merging(["ENCLAVE_NSM_DEVICE": "/dev/nsm0", "TEE_ATTESTATION_SOURCE": "NSM"]) { $1 }).get().nsmDevice == "/dev/nsm0")
        #expect(try load(remoteBase.merging(["TEE_ATTESTATION_SOURCE": "static"]) { $1 }).get().nsmDevice == nil)
        #expect(rejectedVariable(nsm.merging(["TEE_ATTESTATION_SIGNING_PRIVATE_KEY": remoteSeed]) { $1 }) == "TEE_ATTESTATION_SIGNING_PRIVATE_KEY")
        #expect(rejectedVariable(nsm.merging(["TEE_ATTESTATION_DOCUMENT": remoteDocument]) { $1 }) == "TEE_ATTESTATION_DOCUMENT")
        #expect(rejectedVariable(nsm.merging(["TEE_ATTESTATION_DOCUMENT_PATH": "/tmp/doc"]) { $1 }) == "TEE_ATTESTATION_DOCUMENT_PATH")
        #expect(rejectedVariable(nsm.merging(["ENCLAVE_NSM_DEVICE": "unix:/tmp/nsm.sock"]) { $1 }) == "ENCLAVE_NSM_DEVICE")
        #expect(rejectedVariable(nsm.merging(["ENCLAVE_NSM_DEVICE": "nsm"]) { $1 }) == "ENCLAVE_NSM_DEVICE")
        #expect(rejectedVariable(nsm.merging(["TEE_ATTESTATION_SOURCE": "tpm"]) { $1 }) == "TEE_ATTESTATION_SOURCE")
        #expect(rejectedVariable(localEnvironment(["TEE_ATTESTATION_SOURCE": "nsm"])) == "TEE_ATTESTATION_SOURCE")  // dev-shim
        let local = nsm.merging(["ALFRED_ENV": "local", "ENCLAVE_NSM_DEVICE": "unix:/tmp/nsm.sock", "TEE_ALLOWED_MEASUREMENTS": "dev-local-enclave"]) { $1 }
        #expect(try load(local).get().nsmDevice == "unix:/tmp/nsm.sock")
    }

    static let localRejections: [(String, [String: String], String)] = [
        ("bad environment", ["ALFRED_ENV": "qa"], "ALFRED_ENV"),
        ("bad mode", ["ENCLAVE_RUNTIME_MODE": "cloud"], "ENCLAVE_RUNTIME_MODE"),
        ("runtime refuses disabled", ["ENCLAVE_RUNTIME_MODE": "disabled"], "ENCLAVE_RUNTIME_MODE"),
        ("short secret", ["ENCLAVE_RPC_SHARED_SECRET": "fifteen-bytes!!"], "ENCLAVE_RPC_SHARED_SECRET"),
        ("short previous secret", ["ENCLAVE_RPC_SHARED_SECRET_PREVIOUS": "short"], "ENCLAVE_RPC_SHARED_SECRET_PREVIOUS"),
        ("skew zero", ["ENCLAVE_RPC_AUTH_MAX_SKEW_SECONDS": "0"], "ENCLAVE_RPC_AUTH_MAX_SKEW_SECONDS"),
        ("skew too large", ["ENCLAVE_RPC_AUTH_MAX_SKEW_SECONDS": "301"], "ENCLAVE_RPC_AUTH_MAX_SKEW_SECONDS"),
        ("skew not a number", ["ENCLAVE_RPC_AUTH_MAX_SKEW_SECONDS": "30s"], "ENCLAVE_RPC_AUTH_MAX_SKEW_SECONDS"),
        ("bad boolean", ["TEE_ATTESTATION_REQUIRED": "nope"], "TEE_ATTESTATION_REQUIRED"),
        ("dev-shim with attestation required", ["TEE_ATTESTATION_REQUIRED": "true"], "TEE_ATTESTATION_REQUIRED"),
        ("dev-shim without insecure opt-in", ["TEE_ALLOW_INSECURE_DEV_ATTESTATION": "off"], "TEE_ALLOW_INSECURE_DEV_ATTESTATION"),
        ("max age zero", ["TEE_ATTESTATION_MAX_AGE_SECONDS": "0"], "TEE_ATTESTATION_MAX_AGE_SECONDS"),
        ("max age too large", ["TEE_ATTESTATION_MAX_AGE_SECONDS": "3601"], "TEE_ATTESTATION_MAX_AGE_SECONDS"),
        ("bind without port", ["ENCLAVE_RUNTIME_BIND_ADDR": "127.0.0.1"], "ENCLAVE_RUNTIME_BIND_ADDR"),
        ("bind hostname", ["ENCLAVE_RUNTIME_BIND_ADDR": "example.com:8181"], "ENCLAVE_RUNTIME_BIND_ADDR"),
        ("bind port zero", ["ENCLAVE_RUNTIME_BIND_ADDR": "127.0.0.1:0"], "ENCLAVE_RUNTIME_BIND_ADDR"),
        ("bind port too large", ["ENCLAVE_RUNTIME_BIND_ADDR": "127.0.0.1:65536"], "ENCLAVE_RUNTIME_BIND_ADDR"),
        ("bind bad IPv4", ["ENCLAVE_RUNTIME_BIND_ADDR": "127.0.0.256:8181"], "ENCLAVE_RUNTIME_BIND_ADDR"),
        ("bind IPv6 without brackets", ["ENCLAVE_RUNTIME_BIND_ADDR": "::1:8181"], "ENCLAVE_RUNTIME_BIND_ADDR"),
        ("signing key not base64", ["TEE_ATTESTATION_SIGNING_PRIVATE_KEY": "%%%"], "TEE_ATTESTATION_SIGNING_PRIVATE_KEY"),
        ("signing key wrong size", ["TEE_ATTESTATION_SIGNING_PRIVATE_KEY": Data(count: 31).base64EncodedString()], "TEE_ATTESTATION_SIGNING_PRIVATE_KEY"),
        ("data key wrong size", ["ENCLAVE_DATA_KEY": Data(count: 16).base64EncodedString()], "ENCLAVE_DATA_KEY"),
        ("key version zero", ["KMS_KEY_VERSION": "0"], "KMS_KEY_VERSION"),
        ("body limit too small", ["ENCLAVE_RPC_MAX_BODY_BYTES": "1023"], "ENCLAVE_RPC_MAX_BODY_BYTES"),
        ("body limit too large", ["ENCLAVE_RPC_MAX_BODY_BYTES": "1048577"], "ENCLAVE_RPC_MAX_BODY_BYTES"),
        ("replay capacity too small", ["ENCLAVE_RPC_REPLAY_CAPACITY": "999"], "ENCLAVE_RPC_REPLAY_CAPACITY"),
        ("previous key not below the current version", ["ENCLAVE_DATA_KEY_PREVIOUS": "1=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="], "ENCLAVE_DATA_KEY_PREVIOUS"),
        ("previous key version zero", ["KMS_KEY_VERSION": "3", "ENCLAVE_DATA_KEY_PREVIOUS": "0=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="], "ENCLAVE_DATA_KEY_PREVIOUS"),
        ("previous key twice", ["KMS_KEY_VERSION": "3", "ENCLAVE_DATA_KEY_PREVIOUS": "1=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,1=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="], "ENCLAVE_DATA_KEY_PREVIOUS"),
        ("previous key short", ["KMS_KEY_VERSION": "3", "ENCLAVE_DATA_KEY_PREVIOUS": "1=AAAA"], "ENCLAVE_DATA_KEY_PREVIOUS"),
        ("previous key without version", ["KMS_KEY_VERSION": "3", "ENCLAVE_DATA_KEY_PREVIOUS": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="], "ENCLAVE_DATA_KEY_PREVIOUS"),
        ("token cache entries negative", ["ENCLAVE_ACCESS_TOKEN_CACHE_ENTRIES": "-1"], "ENCLAVE_ACCESS_TOKEN_CACHE_ENTRIES"),
        ("token cache entries too many", ["ENCLAVE_ACCESS_TOKEN_CACHE_ENTRIES": "1000001"], "ENCLAVE_ACCESS_TOKEN_CACHE_ENTRIES"),
        ("token cache bytes too few", ["ENCLAVE_ACCESS_TOKEN_CACHE_BYTES": "65535"], "ENCLAVE_ACCESS_TOKEN_CACHE_BYTES"),
        ("token cache bytes too many", ["ENCLAVE_ACCESS_TOKEN_CACHE_BYTES": "1073741825"], "ENCLAVE_ACCESS_TOKEN_CACHE_BYTES"),
        ("token cache bytes not a number", ["ENCLAVE_ACCESS_TOKEN_CACHE_BYTES": "16MiB"], "ENCLAVE_ACCESS_TOKEN_CACHE_BYTES"),
        ("client id without secret", ["GOOGLE_OAUTH_CLIENT_ID": "c"], "GOOGLE_OAUTH_CLIENT_SECRET"),
        ("client secret without id", ["GOOGLE_OAUTH_CLIENT_SECRET": "s"], "GOOGLE_OAUTH_CLIENT_ID"),
        ("token URL not a URL", ["GOOGLE_OAUTH_TOKEN_URL": "not a url"], "GOOGLE_OAUTH_TOKEN_URL"),
        ("revoke URL bad scheme", ["GOOGLE_OAUTH_REVOKE_URL": "ftp://x/revoke"], "GOOGLE_OAUTH_REVOKE_URL"),
        ("timeout too small", ["ENCLAVE_PROVIDER_TIMEOUT_MS": "99"], "ENCLAVE_PROVIDER_TIMEOUT_MS"),
        ("timeout too large", ["ENCLAVE_PROVIDER_TIMEOUT_MS": "60001"], "ENCLAVE_PROVIDER_TIMEOUT_MS"),
        ("bad log level", ["LOG_LEVEL": "verbose"], "LOG_LEVEL"),
    ]

    @Test("Local rejections name the variable", arguments: localRejections)
    func localRejected(name: String, override: [String: String], variable: String) {
        #expect(rejectedVariable(localEnvironment(override)) == variable, "\(name)")
    }

    static let localAcceptances: [[String: String]] = [
        ["ENCLAVE_RUNTIME_BIND_ADDR": "[::1]:8181"], ["ENCLAVE_RUNTIME_BIND_ADDR": "localhost:1"],
        ["ENCLAVE_RUNTIME_BIND_ADDR": "0.0.0.0:65535"], ["TEE_ATTESTATION_REQUIRED": "FALSE", "TEE_ALLOW_INSECURE_DEV_ATTESTATION": "Yes"],
        ["TEE_ATTESTATION_REQUIRED": "0", "TEE_ALLOW_INSECURE_DEV_ATTESTATION": "on"],
        ["ENCLAVE_RPC_SHARED_SECRET": "sixteen-bytes-ok"], ["ENCLAVE_RPC_AUTH_MAX_SKEW_SECONDS": "1"],
        ["ENCLAVE_RPC_AUTH_MAX_SKEW_SECONDS": "300"], ["ENCLAVE_RPC_SHARED_SECRET": "   "],
        ["GOOGLE_OAUTH_CLIENT_ID": "c", "GOOGLE_OAUTH_CLIENT_SECRET": "s", "GOOGLE_OAUTH_TOKEN_URL": "http://127.0.0.1:9/token"],
        ["ENCLAVE_RPC_MAX_BODY_BYTES": "1024"], ["ENCLAVE_RPC_REPLAY_CAPACITY": "1000"], ["LOG_LEVEL": "DEBUG"],
        ["ENCLAVE_PROVIDER_TIMEOUT_MS": "100"], ["TEE_ATTESTATION_MAX_AGE_SECONDS": "3600"],
    ]

    @Test("ENCLAVE_DATA_KEY_PREVIOUS: earlier versions with their keys; none by default; a refusal never shows a key")
    func previousDataKeys() throws {
        #expect(try load(localEnvironment([:])).get().previousDataKeys.isEmpty)
        let one = Data(repeating: 1, count: 32).base64EncodedString(), two = Data(repeating: 2, count: 32).base64EncodedString()
        let loaded = try load(localEnvironment(["KMS_KEY_VERSION": "3", "ENCLAVE_DATA_KEY_PREVIOUS": "1=\(one), 2=\(two)"])).get()
        #expect(loaded.previousDataKeys == [1: [UInt8](repeating: 1, count: 32), 2: [UInt8](repeating: 2, count: 32)])
        guard case .failure(let error) = load(localEnvironment(["KMS_KEY_VERSION": "2", "ENCLAVE_DATA_KEY_PREVIOUS": "1=\(one)x"])) else {
            Issue.record("a key of 33 characters was accepted")
            return
        }
        #expect(!"\(error)".contains(one))
    }

    @Test("The access-token cache: 10,000 entries and 16 MiB by default, 0 entries turns it off, edges accepted")
    func accessTokenCacheBounds() throws {
        #expect(try load(localEnvironment([:])).get().accessTokenCache == AccessTokenCacheBounds(maxEntries: 10000, maxBytes: 16 << 20))
        #expect(try load(localEnvironment(["ENCLAVE_ACCESS_TOKEN_CACHE_ENTRIES": "0"])).get().accessTokenCache == nil)
        let edges = try load(localEnvironment(["ENCLAVE_ACCESS_TOKEN_CACHE_ENTRIES": "1000000", "ENCLAVE_ACCESS_TOKEN_CACHE_BYTES": "65536"])).get()
        #expect(edges.accessTokenCache == AccessTokenCacheBounds(maxEntries: 1_000_000, maxBytes: 65536))
        #expect(try load(localEnvironment(["ENCLAVE_ACCESS_TOKEN_CACHE_BYTES": "1073741824"])).get().accessTokenCache?.maxBytes == 1 << 30)
    }

    @Test("Local edge values are accepted", arguments: localAcceptances)
    func localAccepted(override: [String: String]) throws {
        _ = try load(localEnvironment(override)).get()
    }

    static let productionRejections: [(String, [String: String], String)] = [
        ("dev-shim outside local", ["ENCLAVE_RUNTIME_MODE": "dev-shim"], "ENCLAVE_RUNTIME_MODE"),
        ("disabled outside local", ["ENCLAVE_RUNTIME_MODE": "disabled"], "ENCLAVE_RUNTIME_MODE"),
        ("no shared secret", ["ENCLAVE_RPC_SHARED_SECRET": ""], "ENCLAVE_RPC_SHARED_SECRET"),
        ("31-byte secret", ["ENCLAVE_RPC_SHARED_SECRET": String(repeating: "s", count: 31)], "ENCLAVE_RPC_SHARED_SECRET"),
        ("31-byte previous secret", ["ENCLAVE_RPC_SHARED_SECRET_PREVIOUS": String(repeating: "p", count: 31)], "ENCLAVE_RPC_SHARED_SECRET_PREVIOUS"),
        ("attestation not required", ["TEE_ATTESTATION_REQUIRED": "false"], "TEE_ATTESTATION_REQUIRED"),
        ("insecure dev attestation", ["TEE_ALLOW_INSECURE_DEV_ATTESTATION": "true"], "TEE_ALLOW_INSECURE_DEV_ATTESTATION"),
        ("dev measurement allowed", ["TEE_ALLOWED_MEASUREMENTS": "pcr0-abc123,dev-local-enclave"], "TEE_ALLOWED_MEASUREMENTS"),
        ("measurements default", ["TEE_ALLOWED_MEASUREMENTS": ""], "TEE_ALLOWED_MEASUREMENTS"),
        ("measurements only commas", ["TEE_ALLOWED_MEASUREMENTS": " , ,"], "TEE_ALLOWED_MEASUREMENTS"),
        ("no signing key", ["TEE_ATTESTATION_SIGNING_PRIVATE_KEY": ""], "TEE_ATTESTATION_SIGNING_PRIVATE_KEY"),
        ("no document", ["TEE_ATTESTATION_DOCUMENT": ""], "TEE_ATTESTATION_DOCUMENT_PATH"),
        ("document path missing", ["TEE_ATTESTATION_DOCUMENT_PATH": "/nonexistent/doc.json"], "TEE_ATTESTATION_DOCUMENT_PATH"),
        ("document not JSON", ["TEE_ATTESTATION_DOCUMENT": "not json"], "TEE_ATTESTATION_DOCUMENT"),
        ("document without measurement", ["TEE_ATTESTATION_DOCUMENT": #"{"runtime":"nitro"}"#], "TEE_ATTESTATION_DOCUMENT"),
        ("document runtime differs", ["TEE_ATTESTATION_DOCUMENT": #"{"runtime":"sev","measurement":"pcr0-abc123"}"#], "TEE_ATTESTATION_DOCUMENT"),
        ("document measurement not allowed", ["TEE_ATTESTATION_DOCUMENT": #"{"runtime":"nitro","measurement":"pcr0-zzz"}"#], "TEE_ATTESTATION_DOCUMENT"),
        ("document key differs", ["TEE_ATTESTATION_DOCUMENT": #"{"runtime":"nitro","measurement":"pcr0-abc123","public_key":"\#(Data(repeating: 1, count: 32).base64EncodedString())"}"#], "TEE_ATTESTATION_DOCUMENT"),
        ("no data key", ["ENCLAVE_DATA_KEY": ""], "ENCLAVE_DATA_KEY"),
        ("no OAuth client id", ["GOOGLE_OAUTH_CLIENT_ID": ""], "GOOGLE_OAUTH_CLIENT_ID"),
        ("no OAuth client secret", ["GOOGLE_OAUTH_CLIENT_SECRET": ""], "GOOGLE_OAUTH_CLIENT_SECRET"),
        ("http token URL", ["GOOGLE_OAUTH_TOKEN_URL": "http://oauth2.googleapis.com/token"], "GOOGLE_OAUTH_TOKEN_URL"),
        ("http revoke URL", ["GOOGLE_OAUTH_REVOKE_URL": "http://oauth2.googleapis.com/revoke"], "GOOGLE_OAUTH_REVOKE_URL"),
        ("database off the machine unencrypted", ["ENCLAVE_DATABASE_URL": "postgres://e:pw@db.internal/enclave"], "ENCLAVE_DATABASE_URL"),
        ("database encrypted, certificate unchecked", ["ENCLAVE_DATABASE_URL": "postgres://e:pw@db.internal/enclave?sslmode=require"], "ENCLAVE_DATABASE_URL"),
        ("token URL elsewhere", ["GOOGLE_OAUTH_TOKEN_URL": "https://oauth.operator.example/token"], "GOOGLE_OAUTH_TOKEN_URL"),
        ("token URL on Google's host, another path", ["GOOGLE_OAUTH_TOKEN_URL": "https://oauth2.googleapis.com/token/../x"], "GOOGLE_OAUTH_TOKEN_URL"),
        ("token URL with a port", ["GOOGLE_OAUTH_TOKEN_URL": "https://oauth2.googleapis.com:8443/token"], "GOOGLE_OAUTH_TOKEN_URL"),
        ("token URL with userinfo", ["GOOGLE_OAUTH_TOKEN_URL": "https://oauth2.googleapis.com@evil.example/token"], "GOOGLE_OAUTH_TOKEN_URL"),
        ("revoke URL elsewhere", ["GOOGLE_OAUTH_REVOKE_URL": "https://127.0.0.1/revoke"], "GOOGLE_OAUTH_REVOKE_URL"),
        ("revoke URL as the token URL", ["GOOGLE_OAUTH_REVOKE_URL": "https://oauth2.googleapis.com/token"], "GOOGLE_OAUTH_REVOKE_URL"),
    ]

    @Test("Outside local the provider URLs are Google's own: the defaults, or set to exactly them")
    func providerURLsAreGoogles() throws {
        let explicit = remoteBase.merging([
            "GOOGLE_OAUTH_TOKEN_URL": "https://oauth2.googleapis.com/token", "GOOGLE_OAUTH_REVOKE_URL": "https://oauth2.googleapis.com/revoke",
        ]) { $1 }
        let configuration = try load(explicit).get()
        #expect(configuration.tokenURL.absoluteString == "https://oauth2.googleapis.com/token")
        #expect(try load(remoteBase).get().revokeURL.absoluteString == "https://oauth2.googleapis.com/revoke")
        // Local keeps its test servers.
        #expect(try load(localEnvironment(["GOOGLE_OAUTH_TOKEN_URL": "http://127.0.0.1:9/token"])).get().tokenURL.port == 9)
    }

    @Test("ENCLAVE_RUNTIME_MODE=remote needs ALFRED_ENV set: unset never counts as local there (exit 78 naming it)")
    func remoteNeedsAnExplicitEnvironment() throws {
        var unset = remoteBase.merging(["ENCLAVE_DATABASE_URL": ""]) { $1 }
        unset["ALFRED_ENV"] = nil
        #expect(rejectedVariable(unset) == "ALFRED_ENV")
        var nsm = unset.merging(["TEE_ATTESTATION_SOURCE": "nsm", "ENCLAVE_NSM_DEVICE": "unix:/tmp/nsm.sock"]) { $1 }
        nsm["TEE_ATTESTATION_SIGNING_PRIVATE_KEY"] = nil
        nsm["TEE_ATTESTATION_DOCUMENT"] = nil
        #expect(rejectedVariable(nsm) == "ALFRED_ENV")
        if case .failure(let error) = load(unset) { #expect(error.rule.contains("must be set explicitly")) }
        _ = try load(unset.merging(["ALFRED_ENV": "local", "TEE_ALLOWED_MEASUREMENTS": "pcr0-abc123"]) { $1 }).get()
        // Without an explicit mode, an unset environment is still local (dev-shim with the opt-in).
        #expect(try load(localEnvironment([:]).filter { $0.key != "ALFRED_ENV" && $0.key != "ENCLAVE_RUNTIME_MODE" }).get().shared.isLocal)
    }

    @Test("Staging and production guardrails", arguments: productionRejections)
    func productionRejected(name: String, override: [String: String], variable: String) {
        for environment in ["production", "staging"] {
            let env = remoteBase.merging(override) { $1 }.merging(["ALFRED_ENV": environment]) { $1 }
            #expect(rejectedVariable(env) == variable, "\(name) in \(environment)")
        }
    }

    @Test("Remote document: runtime compared in any case; a document file path wins over inline")
    func remoteDocumentRules() throws {
        let upper = remoteDocument.replacingOccurrences(of: #""nitro""#, with: #""NITRO""#)
        _ = try load(remoteBase.merging(["TEE_ATTESTATION_DOCUMENT": upper]) { $1 }).get()
        let path = temporaryDirectory() + "/document.json"
        try Data(remoteDocument.utf8).write(to: URL(fileURLWithPath: path))
        let fromFile = try load(remoteBase.merging(["TEE_ATTESTATION_DOCUMENT_PATH": path, "TEE_ATTESTATION_DOCUMENT": "not json"]) { $1 }).get()
        #expect(fromFile.remoteDocument?.measurement == "pcr0-abc123")
    }

    @Test("A replay capacity whose table does not fit in half the memory is refused, naming the largest that does")
    func replayCapacityBoundedByMemory() throws {
        // 1 GiB: half is 512 MiB = 2^25 slots of 16 bytes, so at most 2^24 nonces.
        let memory = 1 << 30
        func capacity(_ value: String) -> Result<Int, ConfigurationError> {
            Result { () throws(ConfigurationError) in
                try RuntimeConfiguration.replayCapacity(EnvironmentSource(["ENCLAVE_RPC_REPLAY_CAPACITY": value]), memoryBytes: memory)
            }
        }
        #expect(try capacity("16777216").get() == 1 << 24)
        for refused in ["16777217", "2147483647", "3000000000", "9223372036854775807"] {
            guard case .failure(let error) = capacity(refused) else {
                Issue.record("\(refused) was accepted")
                continue
            }
            #expect(error.variable == "ENCLAVE_RPC_REPLAY_CAPACITY")
            #expect(error.rule.hasSuffix("in half of the 1024 MiB of memory: at most 16777216"), "\(error.rule)")
        }
        #expect(rejectedVariable(localEnvironment(["ENCLAVE_RPC_REPLAY_CAPACITY": "9223372036854775807"])) == "ENCLAVE_RPC_REPLAY_CAPACITY")
        #expect(SystemMemory.availableBytes() > 1 << 26)
    }

    @Test("Messages name the variable and the rule, never a secret value")
    func messagesCarryNoSecret() {
        let secret = "this-secret-is-too-short"
        let env = remoteBase.merging(["ENCLAVE_RPC_SHARED_SECRET": secret]) { $1 }
        guard case .failure(let error) = load(env) else {
            Issue.record("expected a rejection")
            return
        }
        #expect(error.description.contains("ENCLAVE_RPC_SHARED_SECRET") && !error.description.contains(secret))
    }

    @Test(".env parsing: comments, export, quotes; the real environment wins")
    func dotEnv() {
        let parsed = EnvironmentSource.parseDotEnv("# comment\nexport A=1\nB = \"two words\"\nC='x'\n\nD=\n")
        #expect(parsed == ["A": "1", "B": "two words", "C": "x", "D": ""])
        #expect(EnvironmentSource(parsed).string("D") == nil)
    }
}
