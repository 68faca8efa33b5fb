import EnclaveConfiguration
import Foundation
import Testing
import TestSupport

/// The relay of Support/relay_enclave.py in front of a real runtime.
final class RelayProcess: @unchecked Sendable {
    let server: PythonServer
    var base: String { server.base }

    init(upstream: String, mode: String, secret: String? = nil) throws {
        server = try PythonServer(script: "relay_enclave.py", arguments: [upstream, mode] + (secret.map { [$0] } ?? []), environment: bindingEnvironment)
    }

    func setMode(_ mode: String) async throws {
        _ = try await httpCall(.POST, base + "/__mode", body: Array(mode.utf8))
    }

    func rpcRequests() async throws -> Int { try await httpCall(.GET, base + "/__stats").json["rpc_requests"] as? Int ?? -1 }
}

/// docs/contract.md §2a from the hosts' side, with real processes: an answer is the enclave's only
/// when its response signature verifies for the host's request and the ping's binding verifies with
/// the attested key. Also the hosts' deadlines and redirects (issue 21, items 4, 6 and 11).
@Suite("Hosts: only the enclave's authenticated answers are trusted; deadlines and redirects", .serialized)
struct HostTrustTests {
    static let secret = "trust-test-secret-0123456789abcdef"

    func expectRefused(_ role: String, base: String, step: String, _ extra: [String: String] = [:],
                       sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let host = try HostProcess(role, environment: hostEnvironment(base: base, ["ENCLAVE_RPC_SHARED_SECRET": Self.secret].merging(extra) { $1 }))
        let status = try await host.waitForExit()
        #expect(status != 0, "\(role) must not start", sourceLocation: sourceLocation)
        #expect(host.log.contains("enclave probe failed: \(step):"), "\(role) must name '\(step)': \(host.log)", sourceLocation: sourceLocation)
    }

    @Test("A relay that answers RPCs itself (with or without the secret) or alters an answer stops api and worker at startup",
          arguments: ["impostor", "impostor_with_secret", "alter_status", "alter_body", "alter_header", "strip_header"])
    func relayAtStartup(mode: String) async throws {
        let runtime = try await RuntimeProcess(environment: localEnvironment(["ENCLAVE_RPC_SHARED_SECRET": Self.secret]))
        let relay = try RelayProcess(upstream: runtime.base, mode: mode, secret: Self.secret)
        try await expectRefused("api", base: relay.base, step: "answer not authenticated")
        try await expectRefused("worker", base: relay.base, step: "answer not authenticated")
        #expect(try await relay.rpcRequests() >= 2, "the probes reached the relay's RPC path")
    }

    @Test("A relay switched in after startup: the api answers 502 instead of the relay's token; the worker dispatches nothing")
    func relayAfterStartup() async throws {
        let provider = try ProviderProcess()
        let runtime = try await RuntimeProcess(environment: localEnvironment(provider.environment().merging(["ENCLAVE_RPC_SHARED_SECRET": Self.secret]) { $1 }))
        let relay = try RelayProcess(upstream: runtime.base, mode: "forward", secret: Self.secret)
        let environment = hostEnvironment(base: relay.base, ["ENCLAVE_RPC_SHARED_SECRET": Self.secret, "WORKER_TICK_SECONDS": "1"])
        let api = try HostProcess("api", environment: environment)
        let worker = try HostProcess("worker", environment: environment)
        try await api.waitUntilReady()
        try await worker.waitUntilReady()
        let auth = HostProcess.auth
        let registered = try await api.registerConnector(provider)
        #expect(registered.status == 200, "through a forwarding relay the enclave's answers are fine")
        let connectorID = try #require(registered.json["connector_id"] as? String)

        // (A relay that holds the shared secret can sign its own answers to later RPCs: the gap
        // docs/contract.md §2a leaves to an attested channel. The worker's ticks, below, still catch it.)
        for mode in ["impostor", "alter_status", "alter_body", "alter_header", "strip_header"] {
            try await relay.setMode(mode)
            let token = try await httpCall(.POST, api.apiBase + "/v1/connectors/google/\(connectorID)/access-token", headers: auth, body: json(["user_id": userA]))
            #expect(token.status == 502 && errorCode(token.json) == "answer_not_authenticated", "\(mode): \(token.status) \(errorCode(token.json) ?? "")")
            #expect(!String(decoding: token.body, as: UTF8.self).contains("impostor-access-token"))
            let fresh = try await provider.issueCode(user: userA, redirectURI: LiveRuntimeTests.redirect)
            let impostorRegister = try await httpCall(.POST, api.apiBase + "/v1/connectors/google", headers: auth, body: json([
                "user_id": userA, "authorization_code": fresh, "redirect_uri": LiveRuntimeTests.redirect,
            ]))
            #expect(impostorRegister.status == 502 && impostorRegister.json["connector_id"] == nil, "\(mode)")
        }
        // The worker's tick checks the enclave again, ping and binding included: no job is dispatched.
        try await relay.setMode("impostor_with_secret")
        let deleted = try await httpCall(.DELETE, api.apiBase + "/v1/connectors/google/\(connectorID)?user_id=\(userA)", headers: auth)
        let jobID = try #require(deleted.json["job_id"] as? String)
        let deadline = ContinuousClock.now + .seconds(10)
        while !worker.log.contains("enclave re-verification failed"), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(worker.log.contains("enclave re-verification failed"), "\(worker.log)")
        try await Task.sleep(for: .seconds(2))
        let job = try await httpCall(.GET, api.apiBase + "/v1/jobs/\(jobID)", headers: auth).json
        #expect(job["state"] as? String == "pending" && job["attempts"] as? Int == 0, "\(job)")
        #expect(try await provider.stats()["revocations"] as? Int == 0)
        // Back to the real enclave: the job runs.
        try await relay.setMode("forward")
        let runDeadline = ContinuousClock.now + .seconds(15)
        var state = ""
        while state != "succeeded", ContinuousClock.now < runDeadline {
            state = try await httpCall(.GET, api.apiBase + "/v1/jobs/\(jobID)", headers: auth).json["state"] as? String ?? ""
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(state == "succeeded")
    }

    @Test("A redirect is an answer, never followed: the signed request does not reach the other origin")
    func redirectsNotFollowed() async throws {
        let runtime = try await RuntimeProcess(environment: localEnvironment(["ENCLAVE_RPC_SHARED_SECRET": Self.secret]))
        let elsewhere = try RelayProcess(upstream: runtime.base, mode: "forward")
        let redirecting = try RelayProcess(upstream: runtime.base, mode: "redirect \(elsewhere.base)")
        try await redirecting.setMode("redirect \(elsewhere.base)")
        try await expectRefused("api", base: redirecting.base, step: "answer not authenticated")
        try await expectRefused("worker", base: redirecting.base, step: "answer not authenticated")
        #expect(try await elsewhere.rpcRequests() == 0, "a host followed the redirect with its signed request")
    }

    @Test("The probe retries until its deadline itself: an unhealthy enclave is given the whole deadline, one healthy just before it is accepted")
    func probeUntilDeadline() async throws {
        let runtime = try await RuntimeProcess(environment: localEnvironment(["ENCLAVE_RPC_SHARED_SECRET": Self.secret]))
        let relay = try RelayProcess(upstream: runtime.base, mode: "forward")
        try await relay.setMode("forward")
        let unhealthy = try PythonServer(script: "fake_enclave.py", arguments: ["healthz500"], environment: bindingEnvironment)
        let deadline = ["ENCLAVE_RPC_SHARED_SECRET": Self.secret, "ENCLAVE_RUNTIME_PROBE_DEADLINE_MS": "3000"]
        let started = ContinuousClock.now
        try await expectRefused("api", base: unhealthy.base, step: "bad status", deadline)
        let gaveUp = ContinuousClock.now - started
        #expect(gaveUp >= .milliseconds(2950) && gaveUp < .milliseconds(4500), "gave up after \(gaveUp), deadline 3 s")

        // Healthy at 2.5 s of a 3 s deadline: accepted.
        let late = try RelayProcess(upstream: runtime.base, mode: "forward")
        try await late.setMode("unhealthy")
        let api = try HostProcess("api", environment: hostEnvironment(base: late.base, deadline))
        try await Task.sleep(for: .milliseconds(2500))
        try await late.setMode("forward")
        try await api.waitUntilReady(timeout: .seconds(10))

        // Nothing listening: each attempt is refused at once, so the process ends at its deadline.
        let refusedStart = ContinuousClock.now
        try await expectRefused("worker", base: "http://127.0.0.1:\(try freePort())", step: "unreachable", deadline)
        let refusedTook = ContinuousClock.now - refusedStart
        #expect(refusedTook >= .milliseconds(2950) && refusedTook < .milliseconds(3800), "ended after \(refusedTook), deadline 3 s")
    }

    @Test("ENCLAVE_RPC_TIMEOUT_MS bounds each call, body included; with the enclave gone the api answers 503 at once")
    func rpcDeadline() async throws {
        let provider = try ProviderProcess()
        let runtime = try await RuntimeProcess(environment: localEnvironment(provider.environment().merging(["ENCLAVE_RPC_SHARED_SECRET": Self.secret]) { $1 }))
        let relay = try RelayProcess(upstream: runtime.base, mode: "forward", secret: Self.secret)
        let api = try HostProcess("api", environment: hostEnvironment(base: relay.base, [
            "ENCLAVE_RPC_SHARED_SECRET": Self.secret, "ENCLAVE_RPC_TIMEOUT_MS": "1000",
        ]))
        try await api.waitUntilReady()
        let auth = HostProcess.auth
        let path = api.apiBase + "/v1/connectors/google/\(userB)/access-token"
        try await relay.setMode("drip")
        var started = ContinuousClock.now
        let dripped = try await httpCall(.POST, path, headers: auth, body: json(["user_id": userA]))
        var took = ContinuousClock.now - started
        #expect(dripped.status == 503 && errorCode(dripped.json) == "unreachable", "\(dripped.status) \(dripped.json)")
        #expect(took < .milliseconds(2000), "a dripping enclave held the call \(took)")

        // The enclave gone: a refused connection answers at once, not after a timeout.
        runtime.signal(SIGKILL)
        _ = try await runtime.waitForExit()
        try await relay.setMode("forward")
        let direct = try HostProcess("api", environment: hostEnvironment(base: runtime.base, ["ENCLAVE_RPC_SHARED_SECRET": Self.secret]))
        _ = try await direct.waitForExit()  // cannot start: nothing listens
        started = ContinuousClock.now
        let gone = try await httpCall(.POST, path, headers: auth, body: json(["user_id": userA]))
        took = ContinuousClock.now - started
        #expect(gone.status == 503, "\(gone.status) \(gone.json)")
        #expect(took < .milliseconds(900), "with the enclave gone the answer took \(took)")
    }
}
