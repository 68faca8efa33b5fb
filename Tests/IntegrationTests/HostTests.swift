import EnclaveConfiguration
import EnclaveCrypto
import Foundation
import Testing
import TestSupport

/// The local opt-in for hosts against a dev-shim runtime, with a short probe.
func hostEnvironment(base: String, _ extra: [String: String] = [:]) -> [String: String] {
    SharedSettings.localOptIn.merging([
        "ENCLAVE_RUNTIME_MODE": "dev-shim", "ENCLAVE_RUNTIME_BASE_URL": base,
        "ENCLAVE_RUNTIME_PROBE_TIMEOUT_MS": "500", "ENCLAVE_RUNTIME_PROBE_DEADLINE_MS": "1500",
        "HOST_STATE_DIR": temporaryDirectory(),
    ]) { $1 }.merging(extra) { $1 }
}

/// The fake enclave needs the C core through the Python binding.
let bindingEnvironment = [
    "ENCLAVE_CORE_LIB": repositoryRoot.appendingPathComponent("build/c/libenclave_core.so.1").path,
    "PYTHONPATH": repositoryRoot.appendingPathComponent("bindings/python").path,
]

@Suite("Hosts: fail-closed startup probe, api and worker end to end", .serialized)
struct HostTests {
    /// Starts `role` against `base` and expects a non-zero exit whose output names `step`.
    func expectRefused(_ role: String, base: String, step: String, _ extra: [String: String] = [:],
                       sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let host = try HostProcess(role, environment: hostEnvironment(base: base, extra))
        let status = try await host.waitForExit()
        #expect(status != 0, "\(role) must not start", sourceLocation: sourceLocation)
        #expect(host.log.contains("enclave probe failed: \(step):"), "\(role) must name '\(step)': \(host.log)", sourceLocation: sourceLocation)
    }

    @Test("Fail-closed: nothing listening, impostors and bad evidence each stop api and worker naming the step",
          arguments: [
              ("healthz500", "bad status"), ("no_measurement", "bad document"), ("other_measurement", "measurement not allowed"),
              ("impostor", "signature invalid"), ("wrong_nonce", "evidence invalid"), ("stale", "evidence invalid"),
          ])
    func fakeEnclaves(mode: String, step: String) async throws {
        let fake = try PythonServer(script: "fake_enclave.py", arguments: [mode], environment: bindingEnvironment)
        try await expectRefused("api", base: fake.base, step: step)
        try await expectRefused("worker", base: fake.base, step: step)
    }

    @Test("Fail-closed: nothing listening, a runtime with another secret, a wrong pinned key")
    func realRuntimeRefusals() async throws {
        try await expectRefused("api", base: "http://127.0.0.1:\(try freePort())", step: "unreachable")
        let runtime = try await RuntimeProcess(environment: localEnvironment(["ENCLAVE_RPC_SHARED_SECRET": "runtime-secret-0123456789"]))
        try await expectRefused("api", base: runtime.base, step: "wrong shared secret", ["ENCLAVE_RPC_SHARED_SECRET": "host-secret-0123456789ab"])
        try await expectRefused("worker", base: runtime.base, step: "wrong shared secret", ["ENCLAVE_RPC_SHARED_SECRET": "host-secret-0123456789ab"])
        let wrongKey = Data(repeating: 9, count: 32).base64EncodedString()
        try await expectRefused("api", base: runtime.base, step: "signature invalid", [
            "ENCLAVE_RPC_SHARED_SECRET": "runtime-secret-0123456789", "ENCLAVE_RUNTIME_MODE": "remote",
            "TEE_ATTESTATION_REQUIRED": "true", "TEE_ALLOW_INSECURE_DEV_ATTESTATION": "false", "TEE_ATTESTATION_PUBLIC_KEY": wrongKey,
        ])
        // The right pinned key is accepted (secure settings, local).
        let document = try await httpCall(.GET, runtime.base + "/v1/attestation/document").json
        let pinned = try HostProcess("api", environment: hostEnvironment(base: runtime.base, [
            "ENCLAVE_RPC_SHARED_SECRET": "runtime-secret-0123456789", "ENCLAVE_RUNTIME_MODE": "remote",
            "TEE_ATTESTATION_REQUIRED": "true", "TEE_ALLOW_INSECURE_DEV_ATTESTATION": "false",
            "TEE_ATTESTATION_PUBLIC_KEY": try #require(document["public_key"] as? String),
        ]))
        try await pinned.waitUntilReady()
        #expect(!pinned.log.contains("INSECURE DEV ATTESTATION"))
    }

    @Test("A staging host that accepts the static attestation source says so at start and in enclave_host_build_info")
    func staticAttestationIsVisible() async throws {
        // A runtime serving the static source: a configured document and evidence key.
        let seed = (0..<32).map { UInt8($0 * 7 % 251) }
        let publicKey = Data(try ChallengeSigner(seed: seed).publicKey).base64EncodedString()
        let document = #"{"runtime":"nitro","measurement":"pcr0-static","issued_at":1767225600,"signature":"c2ln","public_key":"\#(publicKey)"}"#
        let secret = String(repeating: "k", count: 32)
        let runtime = try await RuntimeProcess(environment: localEnvironment([
            "ENCLAVE_RUNTIME_MODE": "remote", "TEE_ATTESTATION_REQUIRED": "true", "TEE_ALLOW_INSECURE_DEV_ATTESTATION": "false",
            "TEE_ALLOWED_MEASUREMENTS": "pcr0-static", "TEE_ATTESTATION_SIGNING_PRIVATE_KEY": Data(seed).base64EncodedString(),
            "TEE_ATTESTATION_DOCUMENT": document, "ENCLAVE_DATA_KEY": Data(repeating: 5, count: 32).base64EncodedString(),
            "GOOGLE_OAUTH_CLIENT_ID": "client", "GOOGLE_OAUTH_CLIENT_SECRET": "client-secret", "ENCLAVE_RPC_SHARED_SECRET": secret,
        ]))
        for (environment, warned) in [("staging", true), ("local", false)] {
            let metricsPort = try freePort()
            let api = try HostProcess("api", environment: hostEnvironment(base: runtime.base, [
                "ALFRED_ENV": environment, "ENCLAVE_RUNTIME_MODE": "remote", "TEE_ATTESTATION_REQUIRED": "true",
                "TEE_ALLOW_INSECURE_DEV_ATTESTATION": "false", "TEE_ALLOWED_MEASUREMENTS": "pcr0-static",
                "TEE_ATTESTATION_PUBLIC_KEY": publicKey, "ENCLAVE_RPC_SHARED_SECRET": secret,
                "API_INTERNAL_TOKEN": String(repeating: "t", count: 32), "API_METRICS_BIND_ADDR": "127.0.0.1:\(metricsPort)",
            ]))
            try await api.waitUntilReady()
            #expect(api.log.contains("STATIC ATTESTATION ACCEPTED") == warned, "\(environment): \(api.log)")
            let scrape = String(decoding: try await httpCall(.GET, "http://127.0.0.1:\(metricsPort)/metrics").body, as: UTF8.self)
            #expect(scrape.contains(#"accepts_static_attestation="true""#), "\(scrape)")
        }
    }

    @Test("Hosts started before the runtime wait for it within the probe deadline")
    func startedBeforeRuntime() async throws {
        let port = try freePort()
        let environment = hostEnvironment(base: "http://127.0.0.1:\(port)", ["ENCLAVE_RUNTIME_PROBE_DEADLINE_MS": "20000"])
        let api = try HostProcess("api", environment: environment)
        let worker = try HostProcess("worker", environment: environment)
        // Both are retrying: each has logged a second attempt and neither has exited.
        let waiting = ContinuousClock.now + .seconds(15)
        while !(api.log.contains("\"attempt\":\"2\"") && worker.log.contains("\"attempt\":\"2\"")), ContinuousClock.now < waiting {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(api.log.contains("\"attempt\":\"2\"") && worker.log.contains("\"attempt\":\"2\""))
        #expect(api.process.isRunning && worker.process.isRunning)
        // They hold the shared secret already: protected before the configuration was read.
        #expect(coreFileLimits(api.process) == ["0", "0"] && coreFileLimits(worker.process) == ["0", "0"])
        let runtime = try await RuntimeProcess(environment: localEnvironment(), port: port)
        try await api.waitUntilReady()
        try await worker.waitUntilReady()
        let health = try await httpCall(.GET, api.apiBase + "/healthz").json
        #expect((health["enclave"] as? [String: Any])?["measurement"] as? String == "dev-local-enclave")
        #expect(health["last_verified_at"] is Int)
        _ = runtime
    }

    @Test("End to end: register, access token, delete -> worker revokes; provider outage; kill -9 mid-job")
    func endToEnd() async throws {
        let provider = try ProviderProcess()
        let runtime = try await RuntimeProcess(environment: localEnvironment(provider.environment()))
        let state = temporaryDirectory()
        let environment = hostEnvironment(base: runtime.base, ["HOST_STATE_DIR": state, "WORKER_TICK_SECONDS": "1"])
        let api = try HostProcess("api", environment: environment)
        var worker = try HostProcess("worker", environment: environment)
        try await api.waitUntilReady()
        try await worker.waitUntilReady()
        let auth = HostProcess.auth

        // Wrong or missing token.
        #expect(try await httpCall(.POST, api.apiBase + "/v1/connectors/google", headers: [("authorization", "Bearer nope")], body: json([:])).status == 401)

        func registerConnector() async throws -> String {
            let registered = try await api.registerConnector(provider)
            #expect(registered.status == 200, "\(registered.json)")
            #expect(registered.json["access_token"] is String && registered.json["expires_in"] as? Int == 3599)
            return try #require(registered.json["connector_id"] as? String)
        }
        func deleteAndWait(_ connectorID: String, until state: String, timeout: Duration = .seconds(30)) async throws -> [String: Any] {
            let deleted = try await httpCall(.DELETE, api.apiBase + "/v1/connectors/google/\(connectorID)?user_id=\(userA)", headers: auth)
            #expect(deleted.status == 202)
            let jobID = try #require(deleted.json["job_id"] as? String)
            return try await waitForJob(jobID, state: state, timeout: timeout)
        }
        func waitForJob(_ jobID: String, state: String, timeout: Duration = .seconds(30)) async throws -> [String: Any] {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                let job = try await httpCall(.GET, api.apiBase + "/v1/jobs/\(jobID)", headers: auth).json
                if job["state"] as? String == state { return job }
                try await Task.sleep(for: .milliseconds(200))
            }
            throw HarnessError("job \(jobID) did not reach \(state)")
        }

        let first = try await registerConnector()
        let token = try await httpCall(.POST, api.apiBase + "/v1/connectors/google/\(first)/access-token", headers: auth, body: json(["user_id": userA]))
        #expect(token.status == 200 && token.json["access_token"] is String)
        let foreign = try await httpCall(.POST, api.apiBase + "/v1/connectors/google/\(first)/access-token", headers: auth, body: json(["user_id": userB]))
        #expect(foreign.status == 404)
        // Ids that Foundation's sscanf-based UUID parser takes on Linux are refused before any job or RPC.
        let sloppy = try await httpCall(.POST, api.apiBase + "/v1/connectors/google/\(first)/access-token", headers: auth, body: json(["user_id": " " + userA.dropFirst()]))
        #expect(sloppy.status == 400 && (sloppy.json["error"] as? [String: Any])?["code"] as? String == "invalid_request", "\(sloppy.json)")
        let sloppyDelete = try await httpCall(.DELETE, api.apiBase + "/v1/connectors/google/\(first)?user_id=%20\(userA.dropFirst())", headers: auth)
        #expect(sloppyDelete.status == 400 && (sloppyDelete.json["error"] as? [String: Any])?["code"] as? String == "invalid_request", "\(sloppyDelete.json)")
        _ = try await deleteAndWait(first, until: "succeeded")
        #expect(try await provider.stats()["revocations"] as? Int == 1)
        let afterRevoke = try await httpCall(.POST, api.apiBase + "/v1/connectors/google/\(first)/access-token", headers: auth, body: json(["user_id": userA]))
        #expect(afterRevoke.status == 404)

        // Provider down: the job retries, then completes once it is back.
        let second = try await registerConnector()
        try await provider.setFault("500")
        let deleted = try await httpCall(.DELETE, api.apiBase + "/v1/connectors/google/\(second)?user_id=\(userA)", headers: auth)
        let jobID = try #require(deleted.json["job_id"] as? String)
        let deadline = ContinuousClock.now + .seconds(20)
        var retried: [String: Any] = [:]
        while ContinuousClock.now < deadline {
            retried = try await httpCall(.GET, api.apiBase + "/v1/jobs/\(jobID)", headers: auth).json
            if retried["last_error"] as? String == "provider_failed" { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(retried["state"] as? String == "pending" && retried["last_error"] as? String == "provider_failed")
        try await provider.setFault("none")
        let completed = try await waitForJob(jobID, state: "succeeded")
        #expect((completed["attempts"] as? Int ?? 0) >= 2)

        // kill -9 of the worker mid-job: after a restart the job completes, in effect once.
        let third = try await registerConnector()
        let revocationsBefore = try await provider.stats()["revocations"] as? Int ?? 0
        try await provider.setFault("slow")
        let killed = try await httpCall(.DELETE, api.apiBase + "/v1/connectors/google/\(third)?user_id=\(userA)", headers: auth)
        let killedJob = try #require(killed.json["job_id"] as? String)
        _ = try await waitForJob(killedJob, state: "running", timeout: .seconds(10))
        kill(worker.process.processIdentifier, SIGKILL)
        _ = try await worker.waitForExit()
        try await provider.setFault("none")
        worker = try HostProcess("worker", environment: environment)
        try await worker.waitUntilReady()
        _ = try await waitForJob(killedJob, state: "succeeded", timeout: .seconds(40))
        let revocationsAfter = try await provider.stats()["revocations"] as? Int ?? 0
        #expect(revocationsAfter - revocationsBefore >= 1)
        let exchangeAfter = try await runtime.rpc("/v1/rpc/google/token/exchange", connectorBody(connector: third))
        #expect(errorCode(exchangeAfter.json) == "connector_token_unavailable", "the connector is revoked, in effect once")

        // code_verifier: a malformed one is refused by the api itself, before the enclave or the
        // provider sees the code; a right one reaches the provider (PKCE), a wrong one is its refusal.
        let plainCode = try await provider.issueCode(user: userA, redirectURI: LiveRuntimeTests.redirect)
        func registerBody(_ code: String, verifier: Any) -> [UInt8] {
            json(["user_id": userA, "authorization_code": code, "redirect_uri": LiveRuntimeTests.redirect, "code_verifier": verifier])
        }
        for malformed: Any in ["", 5, true, ["v"]] {
            let refused = try await httpCall(.POST, api.apiBase + "/v1/connectors/google", headers: auth, body: registerBody(plainCode, verifier: malformed))
            #expect(refused.status == 400 && errorCode(refused.json) == "invalid_request", "code_verifier \(malformed): \(refused.status) \(refused.json)")
        }
        let oversized = try await httpCall(.POST, api.apiBase + "/v1/connectors/google", headers: auth, body: registerBody(plainCode, verifier: String(repeating: "v", count: 64 * 1024)))
        #expect(oversized.status == 413 && errorCode(oversized.json) == "payload_too_large", "\(oversized.status) \(oversized.json)")
        let oversizedToken = try await httpCall(.POST, api.apiBase + "/v1/connectors/google/\(first)/access-token", headers: auth, body: json(["user_id": userA, "padding": String(repeating: " ", count: 64 * 1024)]))
        #expect(oversizedToken.status == 413 && errorCode(oversizedToken.json) == "payload_too_large", "\(oversizedToken.status) \(oversizedToken.json)")
        let unused = try await httpCall(.POST, api.apiBase + "/v1/connectors/google", headers: auth, body: registerBody(plainCode, verifier: NSNull()))
        #expect(unused.status == 200, "the refused attempts left the code unused: \(unused.status) \(errorCode(unused.json) ?? "")")
        let verifier = "pkce-verifier-0123456789-abcdefghijklmnopqrstuvwxyz-0123456789"
        let pkceCode = try await provider.issueCode(user: userA, redirectURI: LiveRuntimeTests.redirect, codeChallenge: verifier)
        let wrongVerifier = try await httpCall(.POST, api.apiBase + "/v1/connectors/google", headers: auth, body: registerBody(pkceCode, verifier: verifier + "x"))
        #expect(wrongVerifier.status == 400 && errorCode(wrongVerifier.json) == "invalid_grant", "\(wrongVerifier.json)")
        let pkceCode2 = try await provider.issueCode(user: userA, redirectURI: LiveRuntimeTests.redirect, codeChallenge: verifier)
        let rightVerifier = try await httpCall(.POST, api.apiBase + "/v1/connectors/google", headers: auth, body: registerBody(pkceCode2, verifier: verifier))
        #expect(rightVerifier.status == 200 && rightVerifier.json["connector_id"] is String, "\(rightVerifier.status) \(errorCode(rightVerifier.json) ?? "")")

        // Graceful shutdown of the worker.
        worker.process.interrupt()
        #expect(try await worker.waitForExit() == 0)
    }
}
