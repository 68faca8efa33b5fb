import EnclaveConfiguration
import EnclaveContract
import Foundation
import Testing
import TestSupport

/// docs/contract.md §3a with real processes: the runtime attesting through the NSM simulator,
/// hosts that pin the simulator's root and PCRs, and every way that must fail closed.
@Suite("Nitro: runtime on the NSM simulator, hosts pinning root and PCRs", .serialized)
struct NitroLiveTests {
    static let otherPCRs = "0=\(String(repeating: "ab", count: 48)),1=\(String(repeating: "cd", count: 48))"

    func expectRefused(_ role: String, _ environment: [String: String], step: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let host = try HostProcess(role, environment: environment)
        let status = try await host.waitForExit()
        #expect(status != 0, "\(role) must not start", sourceLocation: sourceLocation)
        #expect(host.log.contains("enclave probe failed: \(step):"), "\(role) must name '\(step)': \(host.log)", sourceLocation: sourceLocation)
    }

    @Test("End to end on the simulator: the document and every challenge carry the NSM document; register, access token, revoke through the api")
    func endToEnd() async throws {
        let simulator = try NitroSimulator()
        let provider = try ProviderProcess()
        let runtime = try await RuntimeProcess(environment: simulator.runtimeEnvironment(provider.environment()))
        let document = try await httpCall(.GET, runtime.base + "/v1/attestation/document").json
        #expect(document["format"] as? String == "aws-nitro-cose" && document["dev_shim"] as? Bool == false)
        #expect(document["measurement"] as? String == simulator.pcr0 && document["attestation_document"] is String)
        let t = Int(Date().timeIntervalSince1970)
        let challenge = try await httpCall(.POST, runtime.base + "/v1/attestation/challenge", body: json([
            "challenge_nonce": "n-1", "issued_at": t, "expires_at": t + 60, "operation_purpose": "decrypt", "request_id": "r",
        ])).json
        #expect(challenge["attestation_document"] is String && challenge["measurement"] as? String == simulator.pcr0)

        let environment = simulator.hostEnvironment(base: runtime.base, ["WORKER_TICK_SECONDS": "1"])
        let api = try HostProcess("api", environment: environment)
        let worker = try HostProcess("worker", environment: environment)
        try await api.waitUntilReady()
        try await worker.waitUntilReady()
        let auth = HostProcess.auth
        let registered = try await api.registerConnector(provider)
        #expect(registered.status == 200, "\(registered.status) \(errorCode(registered.json) ?? "")")
        let connectorID = try #require(registered.json["connector_id"] as? String)
        let token = try await httpCall(.POST, api.apiBase + "/v1/connectors/google/\(connectorID)/access-token", headers: auth, body: json(["user_id": userA]))
        #expect(token.status == 200 && token.json["access_token"] is String)
        let deleted = try await httpCall(.DELETE, api.apiBase + "/v1/connectors/google/\(connectorID)?user_id=\(userA)", headers: auth)
        let jobID = try #require(deleted.json["job_id"] as? String)
        var state = ""
        let deadline = ContinuousClock.now + .seconds(20)
        while state != "succeeded", ContinuousClock.now < deadline {
            state = try await httpCall(.GET, api.apiBase + "/v1/jobs/\(jobID)", headers: auth).json["state"] as? String ?? ""
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(state == "succeeded")
        #expect(try await provider.stats()["revocations"] as? Int == 1)
    }

    @Test("Fail closed, each naming its step: PCRs not allowed, an empty policy, a debug enclave, another root, a stale document, an impostor replaying a genuine document")
    func failClosed() async throws {
        let simulator = try NitroSimulator()
        let runtime = try await RuntimeProcess(environment: simulator.runtimeEnvironment())
        try await expectRefused("api", simulator.hostEnvironment(base: runtime.base, policy: Self.otherPCRs), step: "PCRs not allowed")
        try await expectRefused("worker", simulator.hostEnvironment(base: runtime.base, policy: Self.otherPCRs), step: "PCRs not allowed")
        // Another root pinned (the AWS root, as outside local): the simulator's chain does not reach it.
        var awsRoot = simulator.hostEnvironment(base: runtime.base)
        awsRoot["TEE_NITRO_ROOT_CERTIFICATE"] = nil
        try await expectRefused("api", awsRoot, step: "attestation document invalid")
        // An empty policy is no policy: the host does not start at all.
        let empty = try HostProcess("api", environment: simulator.hostEnvironment(base: runtime.base, policy: " ; "))
        #expect(try await empty.waitForExit() == 78 && empty.log.contains("TEE_ALLOWED_PCRS"))

        // A document older than the host's maximum age (the runtime's own maximum is longer).
        let stale = try NitroSimulator()
        try await stale.backdate(milliseconds: 120_000)
        let staleRuntime = try await RuntimeProcess(environment: stale.runtimeEnvironment())
        try await expectRefused("api", stale.hostEnvironment(base: staleRuntime.base, ["TEE_ATTESTATION_MAX_AGE_SECONDS": "60"]),
                                step: "attestation document invalid")

        // A debug enclave (PCR0 all zero), still signed by the simulator's root: refused unless allowed (local only).
        let zeros = String(repeating: "00", count: 48)
        let debug = try NitroSimulator(pcrs: "0=\(zeros),1=\(zeros)")
        let debugRuntime = try await RuntimeProcess(environment: debug.runtimeEnvironment())
        try await expectRefused("api", debug.hostEnvironment(base: debugRuntime.base), step: "debug enclave")
        let allowed = try HostProcess("api", environment: debug.hostEnvironment(base: debugRuntime.base, ["TEE_ALLOW_DEBUG_ENCLAVE": "true"]))
        try await allowed.waitUntilReady()

        // An impostor replaying a genuine document (vouching for a key it publishes) with evidence of its own key.
        let impostor = try PythonServer(script: "fake_enclave.py", arguments: ["nitro_replay"],
                                        environment: bindingEnvironment.merging(["NSM_SOCKET": simulator.socket]) { $1 })
        try await expectRefused("api", simulator.hostEnvironment(base: impostor.base), step: "signature invalid")
        try await expectRefused("worker", simulator.hostEnvironment(base: impostor.base), step: "signature invalid")
    }

    @Test("The link-cache attack against a running worker: after a poisoned document, a forged chain fails every re-check")
    func workerCachePoisoning() async throws {
        let simulator = try NitroSimulator()
        // A stand-in holding a genuine simulator document for its own key, then the attack's two documents.
        let fake = try PythonServer(script: "fake_enclave.py", arguments: ["nitro_poison"],
                                    environment: bindingEnvironment.merging(["NSM_SOCKET": simulator.socket]) { $1 })
        let metricsPort = try freePort()
        let worker = try HostProcess("worker", environment: simulator.hostEnvironment(base: fake.base, [
            "WORKER_TICK_SECONDS": "1", "WORKER_METRICS_BIND_ADDR": "127.0.0.1:\(metricsPort)",
        ]))
        try await worker.waitUntilReady()
        func reverifications() async throws -> [String: Int] {
            let text = String(decoding: try await httpCall(.GET, "http://127.0.0.1:\(metricsPort)/metrics").body, as: UTF8.self)
            var counts: [String: Int] = [:]
            for line in text.split(separator: "\n") where line.hasPrefix("enclave_host_reverifications_total{") {
                guard let outcome = line.split(separator: "\"").dropFirst().first, let value = line.split(separator: " ").last else { continue }
                counts[String(outcome)] = Int(Double(value) ?? 0)
            }
            return counts
        }
        func phase(_ name: String) async throws {
            #expect(try await httpCall(.POST, fake.base + "/__phase", body: Array(name.utf8)).status == 200)
        }
        try await Task.sleep(for: .seconds(2))
        #expect(try await reverifications()["verified", default: 0] >= 1, "the genuine document passes")
        try await phase("poison")
        try await Task.sleep(for: .seconds(3))
        try await phase("forged")
        try await Task.sleep(for: .milliseconds(1500))  // a tick that began under the poison may still end verified
        let before = try await reverifications()
        try await Task.sleep(for: .seconds(4))
        let after = try await reverifications()
        #expect(after["verified", default: 0] == before["verified", default: 0], "no forged-chain tick verifies: \(before) -> \(after)")
        #expect(after.values.reduce(0, +) > before.values.reduce(0, +) + 2, "the worker kept checking: \(after)")
        #expect(worker.log.contains("enclave re-verification failed"))
    }

    @Test("The NSM stops answering: once the last document is too old, challenges answer 503 attestation_unavailable, hosts fail closed, and all recover when it answers again")
    func simulatorStopped() async throws {
        let simulator = try NitroSimulator()
        // A 4 s maximum age: a new document every 2 s.
        let metrics = "127.0.0.1:\(try freePort())", workerMetrics = "127.0.0.1:\(try freePort())"
        let runtime = try await RuntimeProcess(environment: simulator.runtimeEnvironment([
            "TEE_ATTESTATION_MAX_AGE_SECONDS": "4", "ENCLAVE_METRICS_BIND_ADDR": metrics,
        ]))
        let environment = simulator.hostEnvironment(base: runtime.base, ["WORKER_TICK_SECONDS": "1", "TEE_ATTESTATION_MAX_AGE_SECONDS": "4"])
        let worker = try HostProcess("worker", environment: environment.merging(["WORKER_METRICS_BIND_ADDR": workerMetrics]) { $1 })
        try await worker.waitUntilReady()
        try await simulator.setMode("silent")
        var unavailable = HTTPResult(status: 0, body: [])
        let deadline = ContinuousClock.now + .seconds(10)
        while unavailable.status != 503, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(250))
            let now = Int(Date().timeIntervalSince1970)
            unavailable = try await httpCall(.POST, runtime.base + "/v1/attestation/challenge", body: json([
                "challenge_nonce": "n", "issued_at": now, "expires_at": now + 4, "operation_purpose": "p", "request_id": "r",
            ]))
        }
        #expect(unavailable.status == 503 && unavailable.json["code"] as? String == "attestation_unavailable", "\(unavailable.json)")
        #expect(runtime.log.contains("NSM attestation refresh failed"))
        // The worker's next ticks fail closed; a host starting now cannot prove the enclave.
        let waiting = ContinuousClock.now + .seconds(10)
        while !worker.log.contains("enclave re-verification failed"), ContinuousClock.now < waiting {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(worker.log.contains("enclave re-verification failed"))
        // The metrics say so: refresh failures, the document's age past the maximum, challenges
        // unavailable, the worker's failed checks.
        let scraped = try await PrometheusText.scrape(metrics)
        #expect((scraped.value("enclave_nitro_document_refresh_failures_total") ?? 0) >= 1)
        #expect((scraped.value("enclave_nitro_document_age_seconds") ?? 0) > 4)
        #expect((scraped.value(#"enclave_challenges_total{outcome="unavailable"}"#) ?? 0) >= 1)
        #expect(scraped.value(#"enclave_build_info{version"#) == 1)
        #expect(scraped.samples.keys.contains { $0.contains(#"attestation_source="nsm""#) })
        let workerScrape = try await PrometheusText.scrape(workerMetrics)
        #expect(workerScrape.samples.contains { $0.key.hasPrefix("enclave_host_reverifications_total") && !$0.key.contains("verified") && $0.value >= 1 })
        // The document it still serves is too old: refused once the probe's deadline has passed.
        try await expectRefused("api", environment, step: "attestation document invalid")
        // The NSM answers again: the runtime recovers by itself.
        try await simulator.setMode("normal")
        let api = try HostProcess("api", environment: environment.merging(["ENCLAVE_RUNTIME_PROBE_DEADLINE_MS": "10000"]) { $1 })
        try await api.waitUntilReady(timeout: .seconds(15))
    }

    @Test("Rolling deploy: hosts allowing PCR sets A and B follow the enclave from A to B; a host allowing only B refuses A")
    func rollingDeploy() async throws {
        let simulator = try NitroSimulator()
        let setA = simulator.pcrs
        let setB = "0=\(String(repeating: "0b", count: 48)),1=\(String(repeating: "1b", count: 48))"
        let pcr0B = String(repeating: "0b", count: 48)
        let port = try freePort()
        var runtimeA: RuntimeProcess? = try await RuntimeProcess(environment: simulator.runtimeEnvironment(), port: port)
        let both = simulator.hostEnvironment(base: runtimeA!.base, policy: "\(setA) ; \(setB)", [
            "TEE_ALLOWED_MEASUREMENTS": "\(simulator.pcr0),\(pcr0B)", "WORKER_TICK_SECONDS": "1",
        ])
        let onlyB = simulator.hostEnvironment(base: runtimeA!.base, policy: setB, ["TEE_ALLOWED_MEASUREMENTS": "\(simulator.pcr0),\(pcr0B)"])
        let worker = try HostProcess("worker", environment: both)
        try await worker.waitUntilReady()
        try await expectRefused("api", onlyB, step: "PCRs not allowed")

        // The new image: the simulator measures B, a new runtime takes the old one's place.
        try await simulator.setPCRs(setB)
        runtimeA!.signal(SIGTERM)
        _ = try await runtimeA!.waitForExit()
        runtimeA = nil
        let runtimeB = try await RuntimeProcess(environment: simulator.runtimeEnvironment(), port: port)
        #expect(try await httpCall(.GET, runtimeB.base + "/v1/attestation/document").json["measurement"] as? String == pcr0B)
        let apiBoth = try HostProcess("api", environment: both)
        try await apiBoth.waitUntilReady()
        let apiB = try HostProcess("api", environment: onlyB)
        try await apiB.waitUntilReady()
        // The running worker re-verifies B on its ticks: after the switch, no tick fails any more.
        try await Task.sleep(for: .milliseconds(1500))
        let failures = worker.log.components(separatedBy: "enclave re-verification failed").count
        try await Task.sleep(for: .seconds(3))
        #expect(worker.process.isRunning)
        #expect(worker.log.components(separatedBy: "enclave re-verification failed").count == failures, "\(worker.log)")
    }
}
