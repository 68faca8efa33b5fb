import Foundation
import Testing
import TestSupport

/// docs/contract.md §3b with real processes: the NSM simulator, the KMS stand-in (SigV4 checked by
/// botocore, a PCR0 key policy), the OAuth stand-in and the runtime; ciphertexts made with the
/// real AWS CLI as an operator makes them.
@Suite("KMS release at start, live", .serialized)
struct KMSReleaseLiveTests {
    /// The runtime's exit status and log when it is expected not to start.
    static func failedStart(_ environment: [String: String], timeout: Duration = .seconds(30)) async throws -> (Int32, String) {
        let process = Process()
        let logPath = try launchLogged(process, product: "enclave-runtime", environment: environment.merging([
            "ENCLAVE_RUNTIME_BIND_ADDR": "127.0.0.1:\(try freePort())",
        ]) { $1 })
        let status = try await waitForExit(process, timeout: timeout)
        return (status, (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")
    }

    @Test("The data key and the client secret come from KMS: healthz says kms, tokens flow, a restart opens the same records, nothing secret is logged")
    func release() async throws {
        let simulator = try NitroSimulator()
        let kms = try KMSStandIn(simulator: simulator)
        let provider = try ProviderProcess()
        let dataKey = try kms.newDataKey()
        let clientSecret = try kms.encrypt(ProviderProcess.clientSecret, context: "oauth-client-secret")
        let state = temporaryDirectory()
        let environment = simulator.runtimeEnvironment(provider.environment().merging(kms.runtimeEnvironment(dataKey: dataKey, [
            "GOOGLE_OAUTH_CLIENT_SECRET": "kms:" + clientSecret, "ENCLAVE_STATE_DIR": state,
        ])) { $1 })

        var runtime = try await RuntimeProcess(environment: environment)
        #expect(try await httpCall(.GET, runtime.base + "/healthz").json["secrets"] as? String == "kms")
        // The provider checks the client secret: a registration works only with the released one.
        let connector = try await FleetLiveTests.register(through: runtime, provider)
        runtime.signal(SIGTERM)
        #expect(try await runtime.waitForExit() == 0)
        var log = runtime.log

        runtime = try await RuntimeProcess(environment: environment)
        let exchanged = try await FleetLiveTests.connectorRequest(FleetLiveTests.exchange, connector).send(to: runtime)
        #expect(exchanged.status == 200, "the record sealed under the released key opens after a restart: \(exchanged.json)")
        runtime.signal(SIGTERM)
        #expect(try await runtime.waitForExit() == 0)
        log += runtime.log

        let stats = try await kms.stats()
        #expect(stats["decrypts"] as? Int == 4 && stats["signed_with"] as? [String] == Array(repeating: KMSStandIn.accessKeyID, count: 4))
        #expect(log.contains("secret released by KMS"))
        for secret in [dataKey, clientSecret, ProviderProcess.clientSecret, KMSStandIn.secretAccessKey] {
            #expect(!log.contains(secret), "a ciphertext, the client secret or the AWS secret key reached the log")
        }
        // The stand-in's key policy, as the operator's documentation sets it: no kms:Encrypt of a data key.
        #expect(throws: HarnessError.self) { _ = try kms.encrypt(String(repeating: "k", count: 32), context: "data-key") }
    }

    @Test("A configured plaintext data key says secrets configured")
    func configuredSecrets() async throws {
        let simulator = try NitroSimulator()
        let runtime = try await RuntimeProcess(environment: simulator.runtimeEnvironment())
        #expect(try await httpCall(.GET, runtime.base + "/healthz").json["secrets"] as? String == "configured")
    }

    /// Each answer of step 4 the runtime refuses, and KMS's own refusals: exit 77 naming the variable and why.
    static let refusals: [(fault: String, reason: String)] = [
        ("plaintext", "carries Plaintext"), ("other_key_id", "KeyId is not KMS_KEY_ID"),
        ("bad_cms", "CiphertextForRecipient refused"), ("short_key", "not 32 bytes"), ("denied", "AccessDeniedException"),
    ]

    @Test("Refused answers end the start with exit 77, naming the variable and the reason", arguments: refusals)
    func refused(fault: String, reason: String) async throws {
        let simulator = try NitroSimulator()
        let kms = try KMSStandIn(simulator: simulator)
        let dataKey = try kms.newDataKey()
        try await kms.setFault(fault)
        let (status, log) = try await Self.failedStart(simulator.runtimeEnvironment(kms.runtimeEnvironment(dataKey: dataKey)))
        #expect(status == 77, "\(log)")
        #expect(log.contains("KMS refused to release ENCLAVE_DATA_KEY") && log.contains(reason), "\(log)")
        #expect(!log.contains(dataKey) && !log.contains("Server started"))
    }

    @Test("KMS refuses: another PCR0 than the key policy's, a ciphertext of another purpose, credentials KMS does not know (exit 77)")
    func kmsRefuses() async throws {
        let simulator = try NitroSimulator()
        let other = try KMSStandIn(simulator: simulator, pcr0: String(repeating: "ab", count: 48))
        var (status, log) = try await Self.failedStart(simulator.runtimeEnvironment(other.runtimeEnvironment(dataKey: try other.newDataKey())))
        #expect(status == 77 && log.contains("AccessDeniedException"), "\(log)")

        let kms = try KMSStandIn(simulator: simulator)
        let secretAsKey = try kms.encrypt(String(repeating: "k", count: 32), context: "oauth-client-secret")
        (status, log) = try await Self.failedStart(simulator.runtimeEnvironment(kms.runtimeEnvironment(dataKey: secretAsKey)))
        #expect(status == 77 && log.contains("InvalidCiphertextException"), "one purpose's ciphertext never opens as another's: \(log)")

        (status, log) = try await Self.failedStart(simulator.runtimeEnvironment(kms.runtimeEnvironment(
            dataKey: try kms.newDataKey(), ["AWS_SECRET_ACCESS_KEY": "not-the-key"])))
        #expect(status == 77 && log.contains("InvalidSignatureException"), "\(log)")
        #expect(!log.contains("not-the-key"))
    }

    @Test("Throttling is retried until KMS answers; internal errors, a KMS that hangs or is down end the start with exit 69 at ENCLAVE_KMS_TIMEOUT_MS")
    func retries() async throws {
        let simulator = try NitroSimulator()
        let kms = try KMSStandIn(simulator: simulator)
        let dataKey = try kms.newDataKey()
        try await kms.setFault("throttle:3")
        let runtime = try await RuntimeProcess(environment: simulator.runtimeEnvironment(kms.runtimeEnvironment(dataKey: dataKey)))
        #expect(try await kms.stats()["decrypts"] as? Int == 4)
        #expect(runtime.log.contains("retrying") && runtime.log.contains("ThrottlingException"))

        for fault in ["internal", "http503", "hang"] {
            try await kms.setFault(fault)
            let started = ContinuousClock.now
            let (status, log) = try await Self.failedStart(simulator.runtimeEnvironment(kms.runtimeEnvironment(
                dataKey: dataKey, ["ENCLAVE_KMS_TIMEOUT_MS": "1500"])))
            let took = ContinuousClock.now - started
            #expect(status == 69, "\(fault): \(log)")
            #expect(log.contains("KMS could not release ENCLAVE_DATA_KEY within ENCLAVE_KMS_TIMEOUT_MS"), "\(log)")
            #expect(took < .seconds(10), "\(fault) took \(took)")
        }
        let down = try freePort()
        let (status, log) = try await Self.failedStart(simulator.runtimeEnvironment(kms.runtimeEnvironment(
            dataKey: dataKey, ["ENCLAVE_KMS_TIMEOUT_MS": "1000", "ENCLAVE_KMS_ENDPOINT": "http://127.0.0.1:\(down)"])))
        #expect(status == 69 && log.contains("KMS unreachable"), "\(log)")
    }

    @Test("IMDSv2 credentials sign when the AWS variables are unset, fetched again when their Expiration is near")
    func instanceMetadata() async throws {
        let simulator = try NitroSimulator()
        let kms = try KMSStandIn(simulator: simulator)
        let environment = simulator.runtimeEnvironment(kms.runtimeEnvironment(dataKey: try kms.newDataKey(), [
            "KMS_KEY_VERSION": "2", "ENCLAVE_DATA_KEY_PREVIOUS": "1=kms:" + (try kms.newDataKey()), "ENCLAVE_IMDS_URL": kms.base,
        ])).filter { !$0.key.hasPrefix("AWS_") }

        var runtime = try await RuntimeProcess(environment: environment)
        var stats = try await kms.stats()
        var keys = stats["signed_with"] as? [String] ?? []
        #expect(stats["imds_credentials"] as? Int == 1 && keys.count == 2 && keys[0] == keys[1] && keys[0].hasPrefix("ASIA"), "\(stats)")
        runtime.signal(SIGTERM)
        _ = try await runtime.waitForExit()

        // Credentials that expire within the refresh margin are fetched again before the next call.
        try await kms.setIMDSLifetime(seconds: 120)
        runtime = try await RuntimeProcess(environment: environment)
        stats = try await kms.stats()
        keys = Array((stats["signed_with"] as? [String] ?? []).suffix(2))
        #expect(stats["imds_credentials"] as? Int == 3 && keys.count == 2 && keys[0] != keys[1], "\(stats)")
        #expect(!runtime.log.contains("ASIA"), "no access key id in the log")
    }
}
