import Foundation
import Synchronization
import Testing
import TestSupport

/// Runtime replicas, apis and workers as real processes on a real PostgreSQL server: replay
/// protection and connectors shared by the fleet, jobs shared by the hosts, and what happens
/// when the database or a replica goes away.
@Suite("Fleet: replicas, apis and workers on one PostgreSQL", .serialized)
struct FleetLiveTests {
    static let exchange = "/v1/rpc/google/token/exchange", revoke = "/v1/rpc/google/token/revoke"

    static func registerRequest(_ provider: ProviderProcess, user: String = userA) async throws -> SignedRequest {
        let code = try await provider.issueCode(user: user, redirectURI: LiveRuntimeTests.redirect)
        return SignedRequest(path: LiveRuntimeTests.register, [
            "contract_version": "v1", "request_id": "reg-\(UUID().uuidString)", "user_id": user, "authorization_code": code,
            "redirect_uri": LiveRuntimeTests.redirect,
        ])
    }

    static func connectorRequest(_ path: String, _ connectorID: String, user: String = userA) -> SignedRequest {
        SignedRequest(path: path, [
            "contract_version": "v1", "request_id": "r-\(UUID().uuidString)",
            "connector": ["user_id": user, "connector_id": connectorID],
        ])
    }

    /// Registers through `replica`; the new connector's id.
    static func register(through replica: RuntimeProcess, _ provider: ProviderProcess, user: String = userA) async throws -> String {
        let result = try await registerRequest(provider, user: user).send(to: replica)
        #expect(result.status == 200, "register: \(result.json)")
        return try #require((result.json["connector"] as? [String: Any])?["connector_id"] as? String)
    }

    @Test("A request sent to replica A and then to B is a replay; 50 copies over three replicas: exactly one 200")
    func replayAcrossReplicas() async throws {
        let fleet = try await Fleet(replicas: 3)
        let (a, b, c) = (fleet.replicas[0], fleet.replicas[1], fleet.replicas[2])
        let once = SignedRequest.ping()
        #expect(try await once.send(to: a).status == 200)
        let again = try await once.send(to: b)
        #expect(again.status == 401 && errorCode(again.json) == "request_replay_detected")
        #expect(Answer(try await once.send(to: c)) == Answer(status: 401, code: "request_replay_detected"))

        for round in 0..<3 {
            let copies = SignedRequest.ping()
            let answers = try await withThrowingTaskGroup(of: Answer.self) { group in
                for i in 0..<50 {
                    let replica = fleet.replicas[i % 3]
                    group.addTask { Answer(try await copies.send(to: replica)) }
                }
                return try await group.reduce(into: [Answer: Int]()) { $0[$1, default: 0] += 1 }
            }
            #expect(answers == [Answer(status: 200, code: nil): 1, Answer(status: 401, code: "request_replay_detected"): 49], "round \(round)")
        }
    }

    @Test("Register through A, exchange through B, revoke through C, exchange through A: connector_token_unavailable")
    func connectorAcrossReplicas() async throws {
        let fleet = try await Fleet(replicas: 3)
        let (a, b, c) = (fleet.replicas[0], fleet.replicas[1], fleet.replicas[2])
        let connector = try await Self.register(through: a, fleet.provider)
        let exchanged = try await Self.connectorRequest(Self.exchange, connector).send(to: b)
        #expect(exchanged.status == 200 && exchanged.json["access_token"] is String, "\(exchanged.json)")
        #expect(try await Self.connectorRequest(Self.revoke, connector).send(to: c).status == 200)
        let after = try await Self.connectorRequest(Self.exchange, connector).send(to: a)
        #expect(after.status == 400 && errorCode(after.json) == "connector_token_unavailable")
        #expect(try await fleet.provider.stats()["revocations"] as? Int == 1)
        // The token is gone from the shared row; the provider revoked it once.
        #expect(try fleet.cluster.psql("SELECT status, sealed_refresh_token IS NULL FROM connectors", database: fleet.database) == "revoked|t\n")
    }

    @Test("Two apis and two workers on one job store: 200 revoke jobs, each revoked once, none lost, a worker killed mid-batch")
    func jobsAcrossHosts() async throws {
        let fleet = try await Fleet(replicas: 2)
        let jobsDatabase = try fleet.cluster.createDatabase()
        let environment = { (replica: Int) in fleet.hostEnvironment(replica: replica, jobsDatabase: jobsDatabase, ["WORKER_TICK_SECONDS": "1"]) }
        let apis = try [HostProcess("api", environment: environment(0)), HostProcess("api", environment: environment(1))]
        for api in apis { try await api.waitUntilReady() }

        // 200 connectors, registered through both replicas.
        let connectors = try await withThrowingTaskGroup(of: String.self) { group in
            var ids: [String] = []
            for i in 0..<200 {
                group.addTask { try await Self.register(through: fleet.replicas[i % 2], fleet.provider) }
                if i >= 16, let id = try await group.next() { ids.append(id) }  // 16 at a time
            }
            return try await group.reduce(into: ids) { $0.append($1) }
        }
        #expect(connectors.count == 200)
        let auth = [("authorization", "Bearer local-dev-api-token")]
        var jobIDs: [String] = []
        for (i, connector) in connectors.enumerated() {
            let deleted = try await httpCall(.DELETE, apis[i % 2].apiBase + "/v1/connectors/google/\(connector)?user_id=\(userA)", headers: auth)
            #expect(deleted.status == 202)
            jobIDs.append(try #require(deleted.json["job_id"] as? String))
        }

        // Two workers; the first is killed once the provider has seen some revocations.
        let workers = try [HostProcess("worker", environment: environment(0)), HostProcess("worker", environment: environment(1))]
        for worker in workers { try await worker.waitUntilReady() }
        let deadline = ContinuousClock.now + .seconds(120)
        while (try await fleet.provider.stats()["revocations"] as? Int ?? 0) < 30 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        killAndReap(workers[0].process)

        func states() throws -> String {
            try fleet.cluster.psql("SELECT state, count(*) FROM revoke_jobs GROUP BY state ORDER BY state", database: jobsDatabase)
        }
        while try states() != "succeeded|200\n" && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(try states() == "succeeded|200\n")
        // Each job visible through either api, and each token revoked at the provider exactly once.
        for (i, jobID) in jobIDs.enumerated() where i % 20 == 0 {
            let job = try await httpCall(.GET, apis[(i + 1) % 2].apiBase + "/v1/jobs/\(jobID)", headers: auth).json
            #expect(job["state"] as? String == "succeeded")
        }
        let stats = try await fleet.provider.stats()
        #expect(stats["revocations"] as? Int == 200, "a token revoked twice at the provider: \(stats["revocations"] ?? "")")
        #expect((stats["revoked"] as? [String])?.count == 200)
        #expect(try fleet.cluster.psql("SELECT count(*) FROM connectors WHERE status = 'revoked' AND sealed_refresh_token IS NULL", database: fleet.database) == "200\n")
        // A worker holds one job at a time: at most the one the killed worker held ran twice, claimed
        // again once its lease lapsed; no stale claim finished one.
        let retried = try fleet.cluster.psql("SELECT count(*) FROM revoke_jobs WHERE attempts > 1", database: jobsDatabase)
        #expect((Int(retried.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 99) <= 1)
        #expect(!workers[1].log.contains("claimed by another worker"))
    }

    @Test("PostgreSQL stopped under load: 503 store_unavailable, never 500 and never a 200 left unrecorded; back without a restart")
    func databaseOutageUnderLoad() async throws {
        let cluster = try PostgresCluster.makePrivate()
        let fleet = try await Fleet(replicas: 2, cluster: cluster)
        let connector = try await Self.register(through: fleet.replicas[0], fleet.provider)

        let record = LoadRecord()
        let load = Task {
            await withTaskGroup(of: Void.self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        var i = 0
                        while record.running.load(ordering: .relaxed) {
                            i += 1
                            let request = i % 4 == 0 ? Self.connectorRequest(Self.exchange, connector) : SignedRequest.ping()
                            let answer = (try? await request.send(to: fleet.replicas[worker % 2], timeout: .seconds(5))).map(Answer.init)
                                ?? .transportFailure
                            record.answers.withLock { $0[answer, default: 0] += 1 }
                            if answer.status == 200 { record.accepted.withLock { $0.append(request) } }
                        }
                    }
                }
            }
        }
        try await Task.sleep(for: .seconds(1))
        try cluster.stop()
        try await Task.sleep(for: .seconds(4))
        let health = try await httpCall(.GET, fleet.replicas[1].base + "/healthz").json
        #expect(health["store"] as? String == "postgresql" && health["store_reachable"] as? Bool == false)
        let duringOutage = record.answers.withLock { $0 }
        try cluster.restart()

        // The replicas come back by themselves.
        let deadline = ContinuousClock.now + .seconds(20)
        var recovered = [false, false]
        while recovered.contains(false) && ContinuousClock.now < deadline {
            for (i, replica) in fleet.replicas.enumerated() where !recovered[i] {
                recovered[i] = (try? await SignedRequest.ping().send(to: replica).status) == 200
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        record.running.store(false, ordering: .relaxed)
        await load.value
        #expect(recovered == [true, true])
        #expect(try await httpCall(.GET, fleet.replicas[1].base + "/healthz").json["store_reachable"] as? Bool == true)

        let all = record.answers.withLock { $0 }
        let unexpected = all.keys.filter { ![Answer(status: 200, code: nil), Answer(status: 503, code: "store_unavailable")].contains($0) }
        #expect(unexpected.isEmpty, "answers other than 200 and 503 store_unavailable: \(all)")
        #expect(duringOutage[Answer(status: 503, code: "store_unavailable"), default: 0] > 0, "the outage was seen: \(duringOutage)")
        // Every request answered 200 had its nonce recorded: sent again, each is a replay.
        let replayed = record.accepted.withLock { $0 }
        for request in replayed.suffix(400) {
            #expect(Answer(try await request.send(to: fleet.replicas[0])) == Answer(status: 401, code: "request_replay_detected"))
        }
        #expect(!fleet.replicas.contains { $0.log.contains("\"level\":\"critical\"") })
    }

    @Test("PostgreSQL stopped between the grant and the write: register answers store_unavailable and revokes the token it got")
    func registerRevokesWhatItCouldNotStore() async throws {
        let cluster = try PostgresCluster.makePrivate()
        let fleet = try await Fleet(replicas: 1, cluster: cluster)
        let replica = fleet.replicas[0]
        try await fleet.provider.setFault("slow_code")  // the grant takes 3 s: time to stop the database
        let request = try await Self.registerRequest(fleet.provider)
        let answer = Task { try await request.send(to: replica, timeout: .seconds(30)) }
        try await Task.sleep(for: .milliseconds(1000))  // authenticated (the nonce is stored), the grant under way
        try cluster.stop()
        let result = try await answer.value
        #expect(Answer(result) == Answer(status: 503, code: "store_unavailable"), "\(result.json)")
        let stats = try await fleet.provider.stats()
        #expect(stats["revocations"] as? Int == 1, "\(stats)")
        #expect(stats["live_refresh_tokens"] as? Int == 0, "the refresh token granted is not left live: \(stats)")
        try cluster.restart()
    }

    @Test("kill -9 of one replica under load: the others keep serving, and every register it answered is kept")
    func replicaKilledUnderLoad() async throws {
        let fleet = try await Fleet(replicas: 3)
        let victim = fleet.replicas[1]
        let record = LoadRecord()
        let load = Task {
            await withTaskGroup(of: Void.self) { group in
                for worker in 0..<6 {
                    group.addTask {
                        while record.running.load(ordering: .relaxed) {
                            let replica = fleet.replicas[worker % 3]
                            guard let request = try? await Self.registerRequest(fleet.provider) else { continue }
                            guard let result = try? await request.send(to: replica, timeout: .seconds(5)) else {
                                if replica !== victim { record.failures.withLock { $0.append(.transportFailure) } }
                                continue
                            }
                            if result.status == 200, let id = (result.json["connector"] as? [String: Any])?["connector_id"] as? String {
                                record.registered.withLock { $0.append(id) }
                            } else if replica !== victim {
                                record.failures.withLock { $0.append(Answer(result)) }
                            }
                        }
                    }
                }
            }
        }
        try await Task.sleep(for: .seconds(2))
        killAndReap(victim.process)
        let atKill = record.registered.withLock { $0.count }
        try await Task.sleep(for: .seconds(2))
        record.running.store(false, ordering: .relaxed)
        await load.value

        #expect(record.failures.withLock { $0 }.isEmpty, "the surviving replicas failed: \(record.failures.withLock { $0 })")
        let all = record.registered.withLock { $0 }
        #expect(all.count > atKill, "the others kept serving")
        // Every connector any replica answered for, the victim included, is usable through the others.
        for connector in all {
            let exchanged = try await Self.connectorRequest(Self.exchange, connector).send(to: fleet.replicas[all.count % 2 == 0 ? 0 : 2])
            #expect(exchanged.status == 200, "\(exchanged.json)")
        }
    }
}

/// What a load of concurrent requests saw, shared by its tasks.
final class LoadRecord: Sendable {
    let running = Atomic<Bool>(true)
    let answers = Mutex<[Answer: Int]>([:])
    let accepted = Mutex<[SignedRequest]>([])
    let registered = Mutex<[String]>([])
    let failures = Mutex<[Answer]>([])
}
