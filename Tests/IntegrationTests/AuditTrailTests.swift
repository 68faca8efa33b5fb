import EnclaveConfiguration
import EnclaveContract
import Foundation
import Testing
import TestSupport

/// The audit trail with real processes: the runtime's events for every signed RPC that reached
/// step 5 and none before, each on file before its answer arrives; token RPCs refused while the
/// trail cannot be written; the api's events naming the same request ids as the runtime's.
@Suite("Audit trail", .serialized)
struct AuditTrailTests {
    static func events(_ path: String) -> [[String: Any]] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { parseJSON(Array($0.utf8)) }
    }

    @Test("One event per decision from step 5 on, each written before its answer arrives; never a secret or a body")
    func runtimeEvents() async throws {
        let provider = try ProviderProcess()
        let auditPath = temporaryDirectory() + "/audit.jsonl"
        let runtime = try await RuntimeProcess(environment: localEnvironment(provider.environment().merging(["ENCLAVE_AUDIT_LOG": auditPath]) { $1 }))
        #expect(try FileManager.default.attributesOfItem(atPath: auditPath)[.posixPermissions] as? Int == 0o600)

        // Refused at steps 1 to 4: not audited.
        let ping = json(["contract_version": "v1", "request_id": "p-1"])
        #expect(try await httpCall(.POST, runtime.base + "/v1/rpc/ping", body: ping).status == 401)
        let stale = signedHeaders(path: "/v1/rpc/ping", body: ping, timestamp: Int64(Date().timeIntervalSince1970) - 3600)
        #expect(try await httpCall(.POST, runtime.base + "/v1/rpc/ping", headers: stale, body: ping).status == 401)
        #expect(Self.events(auditPath).isEmpty)

        // Step 5, step 6, allowed: one event each, already on file when the answer is here.
        let badSignature = try await runtime.rpc("/v1/rpc/ping", ["contract_version": "v1", "request_id": "p-2"], secret: "another-secret-of-16+")
        #expect(badSignature.status == 401)
        #expect(Self.events(auditPath).last?["outcome"] as? String == "invalid_request_signature")
        let once = SignedRequest.ping("p-3")
        #expect(try await once.send(to: runtime).status == 200)
        #expect(Self.events(auditPath).last?["outcome"] as? String == "allowed")
        #expect(Self.events(auditPath).last?["request_id"] as? String == "p-3")
        #expect(try await once.send(to: runtime).status == 401)
        #expect(Self.events(auditPath).last?["outcome"] as? String == "request_replay_detected")

        // A register and an exchange name their user and connector; refusals name their code.
        let connector = try await FleetLiveTests.register(through: runtime, provider)
        let register = try #require(Self.events(auditPath).last)
        #expect(register["route"] as? String == "/v1/rpc/google/connector/register" && register["outcome"] as? String == "allowed")
        #expect(register["user_id"] as? String == userA && register["connector_id"] as? String == connector)
        let exchanged = try await FleetLiveTests.connectorRequest(FleetLiveTests.exchange, connector).send(to: runtime)
        #expect(exchanged.status == 200)
        let accessToken = try #require(exchanged.json["access_token"] as? String)
        let unknown = try await FleetLiveTests.connectorRequest(FleetLiveTests.exchange, UUID().uuidString.lowercased()).send(to: runtime)
        #expect(unknown.status == 400)
        let events = Self.events(auditPath)
        #expect(events.count == 6)
        #expect(events.last?["outcome"] as? String == "connector_token_unavailable")
        for event in events {
            #expect(event["type"] as? String == "audit" && event["time"] is String && event["duration_ms"] is Double)
            #expect((event["decision_id"] as? String).map(UUIDSyntax.isValid) == true)
        }
        #expect(Set(events.compactMap { $0["decision_id"] as? String }).count == events.count, "a decision id each")

        // Nothing secret in the trail: no token, client secret, shared secret or body.
        let trail = (try? String(contentsOfFile: auditPath, encoding: .utf8)) ?? ""
        let refreshTokens = try #require(try await provider.stats()["refresh_tokens"] as? [String])
        for secret in refreshTokens + [accessToken, ProviderProcess.clientSecret, SharedSettings.localSharedSecret, "contract_version"] {
            #expect(!trail.contains(secret), "the audit trail holds a secret or a body")
        }
    }

    @Test("An audit log that cannot be written: token RPCs 500 rpc_internal_error (retryable, signed), said in the log; ping answered")
    func unwritableTrail() async throws {
        let provider = try ProviderProcess()
        let runtime = try await RuntimeProcess(environment: localEnvironment(provider.environment().merging([
            "ENCLAVE_AUDIT_LOG": "/dev/full", "ENCLAVE_METRICS_BIND_ADDR": "127.0.0.1:\(try freePort())",
        ]) { $1 }))
        #expect(try await SignedRequest.ping().send(to: runtime).status == 200)
        for _ in 0..<2 {
            let refused = try await Self.registerThrough(runtime, provider)
            #expect(refused.status == 500 && errorCode(refused.json) == "rpc_internal_error")
            #expect((refused.json["error"] as? [String: Any])?["retryable"] as? Bool == true)
        }
        #expect(try await provider.stats()["token_calls"] as? Int == 0, "refused before acting: no code was spent at the provider")
        #expect(runtime.log.contains("the audit event could not be written"))
    }

    static func registerThrough(_ runtime: RuntimeProcess, _ provider: ProviderProcess) async throws -> HTTPResult {
        try await FleetLiveTests.registerRequest(provider).send(to: runtime)
    }

    @Test("A file the runtime cannot append to stops it at start, naming ENCLAVE_AUDIT_LOG (exit 78)")
    func unopenableTrail() async throws {
        let process = Process()
        let logPath = try launchLogged(
            process, product: "enclave-runtime",
            environment: localEnvironment(["ENCLAVE_AUDIT_LOG": "/nonexistent-dir/audit.jsonl", "ENCLAVE_RUNTIME_BIND_ADDR": "127.0.0.1:\(try freePort())"]))
        #expect(try await waitForExit(process) == 78)
        let log = try String(contentsOfFile: logPath, encoding: .utf8)
        #expect(log.contains("ENCLAVE_AUDIT_LOG"))
    }

    @Test("An audit log that is a link, another user's, or not mode 0600 stops the start naming the path and the rule (exit 78)")
    func auditLogHeldLikeTheDataKey() async throws {
        let directory = temporaryDirectory()
        let target = directory + "/elsewhere.jsonl", link = directory + "/link.jsonl"
        let open = directory + "/world-writable.jsonl", foreign = directory + "/foreign.jsonl"
        FileManager.default.createFile(atPath: target, contents: nil, attributes: [.posixPermissions: 0o600])
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        FileManager.default.createFile(atPath: open, contents: nil, attributes: [.posixPermissions: 0o666])
        FileManager.default.createFile(atPath: foreign, contents: nil, attributes: [.posixPermissions: 0o600])
        #expect(chown(foreign, 65534, 65534) == 0)
        for (path, rule) in [(link, "must be a regular file, not a link"), (open, "must have mode 0600"), (foreign, "must be owned by the runtime's user")] {
            let process = Process()
            let logPath = try launchLogged(
                process, product: "enclave-runtime",
                environment: localEnvironment(["ENCLAVE_AUDIT_LOG": path, "ENCLAVE_RUNTIME_BIND_ADDR": "127.0.0.1:\(try freePort())"]))
            #expect(try await waitForExit(process) == 78, "\(rule)")
            let log = try String(contentsOfFile: logPath, encoding: .utf8)
            #expect(log.contains("ENCLAVE_AUDIT_LOG") && log.contains(path) && log.contains(rule), "\(log)")
        }
        // Nothing was written through the link, and the 0666 file kept no event.
        #expect(try Data(contentsOf: URL(fileURLWithPath: target)).isEmpty && (try Data(contentsOf: URL(fileURLWithPath: open))).isEmpty)
        // A new file is made 0600 whatever the umask, and serves.
        let fresh = directory + "/fresh.jsonl"
        let runtime = try await RuntimeProcess(environment: localEnvironment(["ENCLAVE_AUDIT_LOG": fresh]))
        let mode = try FileManager.default.attributesOfItem(atPath: fresh)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        _ = runtime
    }

    @Test("The api audits each request on its /v1 routes with the request id the runtime's event names; a bad bearer token too")
    func apiEvents() async throws {
        let provider = try ProviderProcess()
        let auditPath = temporaryDirectory() + "/audit.jsonl"
        let runtime = try await RuntimeProcess(environment: localEnvironment(provider.environment().merging(["ENCLAVE_AUDIT_LOG": auditPath]) { $1 }))
        let api = try HostProcess("api", environment: hostEnvironment(base: runtime.base))
        try await api.waitUntilReady()
        let code = try await provider.issueCode(user: userA, redirectURI: LiveRuntimeTests.redirect)
        let registered = try await api.registerConnector(provider, code: code)
        #expect(registered.status == 200)
        let connector = try #require(registered.json["connector_id"] as? String)
        #expect(try await httpCall(.POST, api.apiBase + "/v1/connectors/google/\(connector)/access-token",
                                   headers: [("authorization", "Bearer wrong")], body: json(["user_id": userA])).status == 401)
        let apiEvents = api.log.split(separator: "\n").map { parseJSON(Array($0.utf8)) }.filter { $0["type"] as? String == "audit" }
        #expect(apiEvents.count == 2)
        let first = try #require(apiEvents.first)
        #expect(first["route"] as? String == "/v1/connectors/google" && first["outcome"] as? String == "allowed")
        #expect(first["user_id"] as? String == userA && first["connector_id"] as? String == connector)
        #expect(first["process"] as? String == "api")
        let runtimeEvent = try #require(Self.events(auditPath).first { $0["route"] as? String == "/v1/rpc/google/connector/register" })
        #expect(runtimeEvent["request_id"] as? String == first["request_id"] as? String, "one request id across both trails")
        let refused = try #require(apiEvents.last)
        #expect(refused["route"] as? String == "/v1/connectors/google/{connector_id}/access-token" && refused["outcome"] as? String == "unauthorized")
        #expect(!api.log.contains(code), "the authorization code is in the api's output")
    }
}
