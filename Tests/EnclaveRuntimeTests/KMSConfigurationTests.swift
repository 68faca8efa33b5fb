import EnclaveConfiguration
@testable import EnclaveRuntime
import Foundation
import Testing
import TestSupport

/// A local NSM runtime (the simulator's socket) whose secrets come from KMS.
private func kmsEnvironment(_ extra: [String: String?] = [:]) -> [String: String] {
    var env = SharedSettings.localOptIn.merging([
        "ENCLAVE_RUNTIME_MODE": "remote", "TEE_ATTESTATION_REQUIRED": "true", "TEE_ALLOW_INSECURE_DEV_ATTESTATION": "false",
        "TEE_ATTESTATION_SOURCE": "nsm", "ENCLAVE_NSM_DEVICE": "unix:/tmp/nsm.sock", "TEE_ALLOWED_MEASUREMENTS": "dev-local-enclave",
        "ENCLAVE_DATA_KEY": "kms:AQIDBA==", "KMS_KEY_ID": testKeyARN, "GOOGLE_OAUTH_CLIENT_ID": "c",
        "GOOGLE_OAUTH_CLIENT_SECRET": "kms:BQYH", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret-key-0123",
        "ENCLAVE_STATE_DIR": temporaryDirectory(),
    ]) { $1 }
    for (key, value) in extra { env[key] = value }
    return env
}

private func refusal(_ env: [String: String]) -> ConfigurationError? {
    do {
        _ = try RuntimeConfiguration.load(EnvironmentSource(env))
        return nil
    } catch { return error }
}

@Suite("kms: values, KMS settings and egress (docs/configuration.md §3, docs/contract.md §3b)")
struct KMSConfigurationTests {
    @Test("kms: values become ciphertexts to open, each with its purpose; the region comes from the ARN")
    func sealedValues() throws {
        let env = kmsEnvironment(["KMS_KEY_VERSION": "3", "ENCLAVE_DATA_KEY_PREVIOUS": "1=kms:CQo=,2=\(Data(repeating: 2, count: 32).base64EncodedString())"])
        let configuration = try RuntimeConfiguration.load(EnvironmentSource(env))
        let kms = try #require(configuration.kms)
        #expect(configuration.dataKey == nil && configuration.provider?.clientSecret == "" && !configuration.secretsFromKMS)
        #expect(kms.secrets.map(\.variable) == ["ENCLAVE_DATA_KEY", "ENCLAVE_DATA_KEY_PREVIOUS", "GOOGLE_OAUTH_CLIENT_SECRET"])
        #expect(kms.secrets.map(\.purpose) == ["data-key", "data-key", "oauth-client-secret"])
        #expect(kms.secrets.map(\.ciphertext) == [[1, 2, 3, 4], [9, 10], [5, 6, 7]])
        #expect(kms.secrets[1].slot == .previousDataKey(version: 1) && configuration.previousDataKeys.keys.sorted() == [2])
        #expect(kms.region == "eu-west-1" && kms.endpoint.absoluteString == "https://kms.eu-west-1.amazonaws.com")
        #expect(kms.timeoutMilliseconds == 30000)
        guard case .environment(let credentials) = kms.credentials else { Issue.record("not the environment's credentials"); return }
        #expect(credentials.accessKeyID == "AKIDEXAMPLE" && credentials.sessionToken.isEmpty && credentials.expiration == nil)
    }

    @Test("Without AWS credential variables, IMDSv2 at ENCLAVE_IMDS_URL; one of the pair alone is refused")
    func credentialSource() throws {
        let imds = try RuntimeConfiguration.load(EnvironmentSource(kmsEnvironment(["AWS_ACCESS_KEY_ID": nil, "AWS_SECRET_ACCESS_KEY": nil])))
        guard case .instanceMetadata(let url)? = imds.kms?.credentials else { Issue.record("not IMDS"); return }
        #expect(url.absoluteString == "http://169.254.169.254")
        #expect(refusal(kmsEnvironment(["AWS_SECRET_ACCESS_KEY": nil]))?.variable == "AWS_SECRET_ACCESS_KEY")
        #expect(refusal(kmsEnvironment(["AWS_ACCESS_KEY_ID": nil]))?.variable == "AWS_ACCESS_KEY_ID")
        #expect(refusal(kmsEnvironment(["AWS_ACCESS_KEY_ID": nil, "AWS_SECRET_ACCESS_KEY": nil, "ENCLAVE_IMDS_URL": "ftp://x"]))?.variable == "ENCLAVE_IMDS_URL")
    }

    @Test("Refusals, exit 78: kms: without the NSM source, a key id that is no ARN, bad base64, timeouts out of range, a plaintext data key outside local with NSM")
    func refusals() {
        var staticSource = kmsEnvironment(["TEE_ATTESTATION_SOURCE": "static", "ENCLAVE_NSM_DEVICE": nil,
                                           "TEE_ATTESTATION_DOCUMENT": #"{"runtime":"nitro","measurement":"dev-local-enclave"}"#,
                                           "TEE_ATTESTATION_SIGNING_PRIVATE_KEY": Data(repeating: 1, count: 32).base64EncodedString()])
        #expect(refusal(staticSource)?.variable == "ENCLAVE_DATA_KEY")
        staticSource["ENCLAVE_DATA_KEY"] = Data(repeating: 1, count: 32).base64EncodedString()
        #expect(refusal(staticSource)?.variable == "GOOGLE_OAUTH_CLIENT_SECRET")
        for arn in ["kms/local/alfred-refresh-token", "arn:aws:kms:eu-west-1:1111:key/x", "arn:aws:kms:eu-west-1:111122223333:alias/x",
                    "arn:aws:s3:eu-west-1:111122223333:key/x", "arn:aws:kms::111122223333:key/x"] {
            #expect(refusal(kmsEnvironment(["KMS_KEY_ID": arn]))?.variable == "KMS_KEY_ID", "\(arn)")
        }
        #expect(refusal(kmsEnvironment(["ENCLAVE_DATA_KEY": "kms:not base64!"]))?.variable == "ENCLAVE_DATA_KEY")
        #expect(refusal(kmsEnvironment(["ENCLAVE_DATA_KEY": "kms:"]))?.variable == "ENCLAVE_DATA_KEY")
        #expect(refusal(kmsEnvironment(["KMS_KEY_VERSION": "2", "ENCLAVE_DATA_KEY_PREVIOUS": "1=kms:%%"]))?.variable == "ENCLAVE_DATA_KEY_PREVIOUS")
        #expect(refusal(kmsEnvironment(["ENCLAVE_KMS_TIMEOUT_MS": "999"]))?.variable == "ENCLAVE_KMS_TIMEOUT_MS")
        #expect(refusal(kmsEnvironment(["ENCLAVE_KMS_TIMEOUT_MS": "600001"]))?.variable == "ENCLAVE_KMS_TIMEOUT_MS")
        // Outside local (the real device), a data key the operator typed is refused, now or previous.
        let production = kmsEnvironment(["ALFRED_ENV": "production", "ENCLAVE_NSM_DEVICE": nil, "ENCLAVE_RPC_SHARED_SECRET": String(repeating: "s", count: 32),
                                         "TEE_ALLOWED_MEASUREMENTS": "pcr0-abc", "TEE_ALLOW_INSECURE_DEV_ATTESTATION": nil])
        #expect(refusal(production) == nil)
        let plain = Data(repeating: 3, count: 32).base64EncodedString()
        let typed = refusal(production.merging(["ENCLAVE_DATA_KEY": plain]) { $1 })
        #expect(typed?.variable == "ENCLAVE_DATA_KEY" && !"\(typed!)".contains(plain))
        #expect(refusal(production.merging(["KMS_KEY_VERSION": "2", "ENCLAVE_DATA_KEY_PREVIOUS": "1=\(plain)"]) { $1 })?.variable == "ENCLAVE_DATA_KEY_PREVIOUS")
        // ... and KMS must be AWS's own (the endpoint rule, KMSEndpointTests).
        #expect(refusal(production.merging(["ENCLAVE_KMS_ENDPOINT": "https://kms.example.com"]) { $1 })?.variable == "ENCLAVE_KMS_ENDPOINT")
        // The client secret may stay plaintext (the contract's "optionally").
        #expect(refusal(production.merging(["GOOGLE_OAUTH_CLIENT_SECRET": "typed"]) { $1 }) == nil)
    }

    @Test("ENCLAVE_EGRESS_PROXY is http://host:port; ENCLAVE_EGRESS_CA_FILE a PEM file, in local only")
    func egress() throws {
        let pem = temporaryDirectory() + "/roots.pem"
        try Data("-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n".utf8).write(to: URL(fileURLWithPath: pem))
        let egress = try RuntimeConfiguration.load(EnvironmentSource(localEnvironment([
            "ENCLAVE_EGRESS_PROXY": "http://127.0.0.1:3128", "ENCLAVE_EGRESS_CA_FILE": pem,
        ]))).egress
        #expect(egress == Egress(proxy: .init(host: "127.0.0.1", port: 3128), extraRootsFile: pem))
        #expect(try RuntimeConfiguration.load(EnvironmentSource(localEnvironment())).egress == .direct)
        for proxy in ["127.0.0.1:3128", "https://127.0.0.1:3128", "http://127.0.0.1", "http://u:p@127.0.0.1:3128", "http://127.0.0.1:3128/x"] {
            #expect(refusal(localEnvironment(["ENCLAVE_EGRESS_PROXY": proxy]))?.variable == "ENCLAVE_EGRESS_PROXY", "\(proxy)")
        }
        #expect(refusal(localEnvironment(["ENCLAVE_EGRESS_CA_FILE": "/nonexistent.pem"]))?.variable == "ENCLAVE_EGRESS_CA_FILE")
        let production = kmsEnvironment(["ALFRED_ENV": "production", "ENCLAVE_NSM_DEVICE": nil, "ENCLAVE_RPC_SHARED_SECRET": String(repeating: "s", count: 32),
                                         "TEE_ALLOWED_MEASUREMENTS": "pcr0-abc", "TEE_ALLOW_INSECURE_DEV_ATTESTATION": nil])
        #expect(refusal(production.merging(["ENCLAVE_EGRESS_CA_FILE": pem]) { $1 })?.variable == "ENCLAVE_EGRESS_CA_FILE")
        #expect(refusal(production.merging(["ENCLAVE_EGRESS_PROXY": "http://10.0.0.1:8000"]) { $1 }) == nil)
    }

    @Test("ENCLAVE_RUNTIME_TLS: off by default, attested, anything else refused")
    func runtimeTLS() throws {
        #expect(try RuntimeConfiguration.load(EnvironmentSource(localEnvironment())).attestedTLS == false)
        #expect(try RuntimeConfiguration.load(EnvironmentSource(localEnvironment(["ENCLAVE_RUNTIME_TLS": "attested"]))).attestedTLS)
        #expect(refusal(localEnvironment(["ENCLAVE_RUNTIME_TLS": "tls12"]))?.variable == "ENCLAVE_RUNTIME_TLS")
    }

    @Test("KMS error types: the namespace dropped, only a type name's characters kept")
    func errorNames() {
        #expect(KMSClient.errorName("com.amazonaws.kms#ThrottlingException") == "ThrottlingException")
        #expect(KMSClient.errorName("AccessDeniedException") == "AccessDeniedException")
        #expect(KMSClient.errorName("x#<script>\n") == "script")
        #expect(KMSClient.amzDate(Date(timeIntervalSince1970: 1_796_638_500)) == "20261207T101500Z")
    }
}
