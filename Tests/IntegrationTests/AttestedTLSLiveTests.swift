import EnclaveCrypto
import Foundation
import Testing
import TestSupport

/// docs/contract.md §2b with real processes: NSM runtimes with ENCLAVE_RUNTIME_TLS=attested, the
/// api and the worker verifying every connection in its handshake, and what sits on the path
/// (Tests/Fixtures/tls_relay.py): a TCP passthrough that records, a TLS-terminating relay holding
/// the shared secret and a copy of the document, a round-robin balancer in front of replicas.
@Suite("Attested TLS, live", .serialized)
struct AttestedTLSLiveTests {
    static func runtime(_ simulator: NitroSimulator, _ provider: ProviderProcess, _ extra: [String: String] = [:]) async throws -> RuntimeProcess {
        try await RuntimeProcess(environment: simulator.runtimeEnvironment(provider.environment().merging([
            "ENCLAVE_RUNTIME_TLS": "attested", "ENCLAVE_ACCESS_TOKEN_CACHE_ENTRIES": "0",
        ]) { $1 }.merging(extra) { $1 }))
    }

    static func host(_ role: String, _ simulator: NitroSimulator, port: Int, _ extra: [String: String] = [:]) throws -> HostProcess {
        try HostProcess(role, environment: simulator.hostEnvironment(base: "https://127.0.0.1:\(port)", [
            "ENCLAVE_RUNTIME_TLS": "attested", "ENCLAVE_RUNTIME_PROBE_TIMEOUT_MS": "2000", "ENCLAVE_RUNTIME_PROBE_DEADLINE_MS": "4000",
        ].merging(extra) { $1 }))
    }

    @Test("Hosts through a TCP passthrough: every call works and the recorded bytes hold no code or token; a TLS-terminating relay switched in later gets 502 and no byte of a request")
    func passthroughThenTerminating() async throws {
        let simulator = try NitroSimulator()
        let provider = try ProviderProcess()
        let runtime = try await Self.runtime(simulator, provider)
        let relay = try RecordingRelay(upstreams: [runtime.port])
        let api = try Self.host("api", simulator, port: relay.port)
        let worker = try Self.host("worker", simulator, port: relay.port)
        try await api.waitUntilReady()
        try await worker.waitUntilReady()

        let code = try await provider.issueCode(user: userA, redirectURI: LiveRuntimeTests.redirect)
        let registered = try await api.registerConnector(provider, code: code)
        #expect(registered.status == 201 || registered.status == 200, "\(registered.json)")
        let connector = try #require((registered.json["connector"] as? [String: Any])?["connector_id"] as? String ?? registered.json["connector_id"] as? String)
        let token = try await httpCall(.POST, api.apiBase + "/v1/connectors/google/\(connector)/access-token", headers: HostProcess.auth,
                                       body: json(["user_id": userA]))
        #expect(token.status == 200, "\(token.json)")
        let recorded = String(decoding: relay.recorded, as: UTF8.self)
        #expect(recorded.count > 2000, "the passthrough carried the calls")
        let stats = try await provider.stats()
        for secret in [code] + (stats["refresh_tokens"] as? [String] ?? []) + (stats["access_tokens"] as? [String] ?? []) {
            #expect(!recorded.contains(secret), "\(secret.prefix(10))... crossed the path in the clear")
        }
        #expect(!recorded.contains("x-alfred-rpc-signature") && !recorded.contains("authorization_code"))
        #expect(!recorded.lowercased().contains("bearer") && !recorded.contains("local-dev-api-token"), "no bearer token on the path")

        // Connections are kept alive and reused: a few for all those calls and the worker's checks.
        let tunnels = (try await relay.stats()["connections"] as? [Int] ?? []).reduce(0, +)
        #expect(tunnels > 0 && tunnels <= 6, "verified connections are reused: \(tunnels) for the probes, register and token call")

        // The relay now terminates TLS with its own key and a copy of the document (the tunnels
        // open so far are cut).
        try await relay.setMode("terminate")
        try await Task.sleep(for: .milliseconds(300))
        let refused = try await api.registerConnector(provider)
        #expect(refused.status == 502, "\(refused.json)")
        #expect(try await relay.stats()["terminated_requests"] as? Int == 0, "no request reached the relay in the clear")
    }

    @Test("A TLS-terminating relay at start: api and worker fail closed, naming the step")
    func terminatingRelayAtStart() async throws {
        let simulator = try NitroSimulator()
        let provider = try ProviderProcess()
        let runtime = try await Self.runtime(simulator, provider)
        let relay = try RecordingRelay(upstreams: [runtime.port])
        try await relay.setMode("terminate")
        for role in ["api", "worker"] {
            let host = try Self.host(role, simulator, port: relay.port)
            #expect(try await host.waitForExit() != 0)
            #expect(host.log.contains("channel not attested"), "\(host.log)")
        }
        #expect(try await relay.stats()["terminated_requests"] as? Int == 0)
    }

    @Test("A host with attested TLS against a plain runtime fails closed")
    func plainRuntime() async throws {
        let simulator = try NitroSimulator()
        let provider = try ProviderProcess()
        let runtime = try await RuntimeProcess(environment: simulator.runtimeEnvironment(provider.environment()))
        let api = try Self.host("api", simulator, port: runtime.port)
        #expect(try await api.waitForExit() != 0)
        #expect(!api.log.contains("enclave verified"))
    }

    @Test("Three NSM replicas on one PostgreSQL behind a round-robin TCP balancer: api and worker need no affinity, every call succeeds, every replica's key carried answers")
    func replicasWithoutAffinity() async throws {
        let simulator = try NitroSimulator()
        let provider = try ProviderProcess()
        let cluster = PostgresCluster.shared
        let database = try cluster.createDatabase(), jobs = try cluster.createDatabase()
        let dataKey = Data((try SecureRandom.bytes(32))).base64EncodedString()
        var replicas: [RuntimeProcess] = []
        for _ in 0..<3 {
            replicas.append(try await Self.runtime(simulator, provider, ["ENCLAVE_DATABASE_URL": cluster.url(database), "ENCLAVE_DATA_KEY": dataKey]))
        }
        // Each replica made its own evidence key at start.
        var keys = Set<String>()
        for replica in replicas {
            let document = try await httpCall(.GET, replica.base + "/v1/attestation/document", client: replica.client).json
            keys.insert(document["public_key"] as? String ?? "")
        }
        #expect(keys.count == 3)
        let balancer = try RecordingRelay(upstreams: replicas.map(\.port))
        let api = try Self.host("api", simulator, port: balancer.port, ["HOST_DATABASE_URL": cluster.url(jobs)])
        let worker = try Self.host("worker", simulator, port: balancer.port, ["HOST_DATABASE_URL": cluster.url(jobs)])
        try await api.waitUntilReady()
        try await worker.waitUntilReady()
        for _ in 0..<3 {
            let registered = try await api.registerConnector(provider)
            #expect(registered.status == 201 || registered.status == 200, "\(registered.json)")
            let connector = try #require((registered.json["connector"] as? [String: Any])?["connector_id"] as? String ?? registered.json["connector_id"] as? String)
            // Calls at once open connections of their own, which the balancer spreads over the replicas.
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        try await httpCall(.POST, api.apiBase + "/v1/connectors/google/\(connector)/access-token", headers: HostProcess.auth,
                                           body: json(["user_id": userA])).status
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 200, count: 6), "\(statuses)")
        }
        let connections = try await balancer.stats()["connections"] as? [Int] ?? []
        #expect(connections.count == 3 && connections.allSatisfy { $0 >= 1 }, "round robin reached every replica: \(connections)")
    }
}
