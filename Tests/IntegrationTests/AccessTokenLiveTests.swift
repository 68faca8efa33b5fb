import AsyncHTTPClient
import Foundation
import Testing
import TestSupport

/// docs/contract.md §7a with real processes: a runtime (or two on PostgreSQL) and the OAuth
/// stand-in, which delays its answers and counts refresh-token grants by refresh token.
@Suite("Access tokens from memory, live", .serialized)
struct AccessTokenLiveTests {
    static let exchange = FleetLiveTests.exchange, revoke = FleetLiveTests.revoke

    /// A runtime auditing to a file and serving metrics, with its audit path and metrics address.
    static func runtime(_ provider: ProviderProcess, _ extra: [String: String] = [:]) async throws -> (RuntimeProcess, audit: String, metrics: String) {
        let audit = temporaryDirectory() + "/audit.jsonl", metrics = "127.0.0.1:\(try freePort())"
        let environment = provider.environment().merging(["ENCLAVE_AUDIT_LOG": audit, "ENCLAVE_METRICS_BIND_ADDR": metrics]) { $1 }
        return (try await RuntimeProcess(environment: localEnvironment(environment.merging(extra) { $1 })), audit, metrics)
    }

    static func exchangeAnswer(_ runtime: RuntimeProcess, _ connector: String, client: HTTPClient = .shared) async throws -> HTTPResult {
        try await FleetLiveTests.connectorRequest(exchange, connector).send(to: runtime, client: client)
    }

    @Test("20 concurrent exchanges make one grant, 30 sequential ones none more; the audit says who called the provider")
    func concurrentAndSequential() async throws {
        let provider = try ProviderProcess()
        let (runtime, audit, metrics) = try await Self.runtime(provider)
        let connector = try await FleetLiveTests.register(through: runtime, provider)
        try await provider.configure(delayMilliseconds: 1000)
        // Twenty connections at once (the shared client opens eight to a host).
        let wide = HTTPClient(configuration: .init(connectionPool: .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 32)))
        let answers = try await withThrowingTaskGroup(of: HTTPResult.self) { group in
            for _ in 0..<20 { group.addTask { try await Self.exchangeAnswer(runtime, connector, client: wide) } }
            return try await group.reduce(into: [HTTPResult]()) { $0.append($1) }
        }
        try await wide.shutdown()
        #expect(answers.allSatisfy { $0.status == 200 }, "\(answers.map(\.status))")
        #expect(Set(answers.compactMap { $0.json["access_token"] as? String }).count == 1, "one token for all twenty")
        #expect(try await provider.refreshGrants() == 1)

        try await provider.configure(delayMilliseconds: 0)
        var tokens: Set<String> = []
        for _ in 0..<30 {
            let answer = try await Self.exchangeAnswer(runtime, connector)
            #expect(answer.status == 200)
            tokens.insert(try #require(answer.json["access_token"] as? String))
            let left = try #require(answer.json["expires_in"] as? Int)
            #expect(left > 3500 && left <= 3599, "expires_in is the time really left: \(left)")
        }
        #expect(tokens.count == 1)
        #expect(try await provider.refreshGrants() == 1, "30 sequential exchanges: no grant")

        let exchanges = AuditTrailTests.events(audit).filter { $0["route"] as? String == Self.exchange }
        #expect(exchanges.count == 50)
        #expect(exchanges.filter { $0["provider_called"] as? Bool == true }.count == 1)
        #expect(exchanges.filter { $0["provider_called"] as? Bool == false }.count == 49)
        let scrape = try await PrometheusText.scrape(metrics)
        #expect(scrape.value(#"enclave_access_token_lookups_total{outcome="miss"}"#) == 1)
        #expect(scrape.value(#"enclave_access_token_lookups_total{outcome="shared"}"#) == 19)
        #expect(scrape.value(#"enclave_access_token_lookups_total{outcome="hit"}"#) == 30)
        #expect(scrape.value("enclave_access_token_cache_entries") == 1)
        #expect(scrape.value("enclave_access_token_evictions_total") == 0)

        // No access token in the log, the audit trail or the metrics.
        let issued = try await provider.stats()["access_tokens"] as? [String] ?? []
        #expect(!issued.isEmpty)
        let outputs = [runtime.log, (try? String(contentsOfFile: audit, encoding: .utf8)) ?? "", scrape.samples.keys.joined(separator: "\n")]
        for token in issued {
            for output in outputs { #expect(!output.contains(token), "an access token reached an output") }
        }
    }

    @Test("Exchanges of 16 connectors at once reach the provider more than 8 at a time (the outbound pool once held 8 calls to a host)")
    func providerCallsAtOnce() async throws {
        let provider = try ProviderProcess()
        let (runtime, _, _) = try await Self.runtime(provider)
        var connectors: [String] = []
        for _ in 0..<16 { connectors.append(try await FleetLiveTests.register(through: runtime, provider)) }
        try await provider.configure(delayMilliseconds: 2000)
        let wide = HTTPClient(configuration: .init(connectionPool: .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 32)))
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for connector in connectors { group.addTask { try await Self.exchangeAnswer(runtime, connector, client: wide).status } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        try await wide.shutdown()
        #expect(statuses == Array(repeating: 200, count: 16))
        let peak = try await provider.stats()["peak_in_flight"] as? Int
        #expect((peak ?? 0) > 8, "\(peak ?? -1) provider calls at once")
    }

    @Test("Near the end of a short lifetime a new grant is made; a failing provider is called again by the next exchange")
    func expiryAndFailure() async throws {
        let provider = try ProviderProcess()
        let (runtime, _, _) = try await Self.runtime(provider)
        let connector = try await FleetLiveTests.register(through: runtime, provider)
        try await provider.configure(expiresIn: 3)  // kept while more than 0.3 s is left
        let first = try await Self.exchangeAnswer(runtime, connector)
        #expect(first.status == 200 && first.json["expires_in"] as? Int == 3)
        let soon = try await Self.exchangeAnswer(runtime, connector)
        #expect(soon.json["access_token"] as? String == first.json["access_token"] as? String)
        #expect(try await provider.refreshGrants() == 1)
        try await Task.sleep(for: .milliseconds(2800))
        let renewed = try await Self.exchangeAnswer(runtime, connector)
        #expect(renewed.status == 200 && renewed.json["access_token"] as? String != first.json["access_token"] as? String)
        #expect(try await provider.refreshGrants() == 2)

        // A failure is not kept: each exchange while the provider fails asks it again.
        let failing = try await FleetLiveTests.register(through: runtime, provider)
        try await provider.setFault("500")
        let callsBefore = try await provider.stats()["token_calls"] as? Int ?? 0
        for _ in 0..<3 {
            let refused = try await Self.exchangeAnswer(runtime, failing)
            #expect(refused.status == 502 && errorCode(refused.json) == "provider_failed")
        }
        #expect(try await provider.stats()["token_calls"] as? Int == callsBefore + 3)
        try await provider.setFault("none")
        #expect(try await Self.exchangeAnswer(runtime, failing).status == 200)
    }

    @Test("Revoke then exchange is connector_token_unavailable; a rotated refresh token keeps the new row's token")
    func revokeAndRotation() async throws {
        let provider = try ProviderProcess()
        let (runtime, _, _) = try await Self.runtime(provider)
        let connector = try await FleetLiveTests.register(through: runtime, provider)
        #expect(try await Self.exchangeAnswer(runtime, connector).status == 200)
        #expect(try await FleetLiveTests.connectorRequest(Self.revoke, connector).send(to: runtime).status == 200)
        let after = try await Self.exchangeAnswer(runtime, connector)
        #expect(after.status == 400 && errorCode(after.json) == "connector_token_unavailable")

        let rotating = try await FleetLiveTests.register(through: runtime, provider)
        try await provider.setFault("rotate")
        let rotated = try await Self.exchangeAnswer(runtime, rotating)
        #expect(rotated.status == 200)
        #expect(try await provider.stats()["rotations"] as? Int == 1)
        let kept = try await Self.exchangeAnswer(runtime, rotating)
        #expect(kept.json["access_token"] as? String == rotated.json["access_token"] as? String, "the row the rotation stored")
        #expect(try await provider.stats()["rotations"] as? Int == 1)
    }

    @Test("Two replicas on PostgreSQL: a revoke or a rotation on one ends the other's token at once")
    func fleet() async throws {
        let fleet = try await Fleet(replicas: 2)
        let (a, b) = (fleet.replicas[0], fleet.replicas[1])
        let connector = try await FleetLiveTests.register(through: a, fleet.provider)
        let onA = try await Self.exchangeAnswer(a, connector), onB = try await Self.exchangeAnswer(b, connector)
        #expect(onA.status == 200 && onB.status == 200)
        #expect(try await fleet.provider.refreshGrants() == 2, "each replica holds its own token")
        #expect(try await Self.exchangeAnswer(b, connector).json["access_token"] as? String == onB.json["access_token"] as? String)
        #expect(try await FleetLiveTests.connectorRequest(Self.revoke, connector).send(to: a).status == 200)
        let refused = try await Self.exchangeAnswer(b, connector)
        #expect(refused.status == 400 && errorCode(refused.json) == "connector_token_unavailable", "B still held a token: \(refused.json)")

        // Rotation on A: B's token was minted from the spent refresh token's row and is not answered again.
        let second = try await FleetLiveTests.register(through: a, fleet.provider)
        let held = try await Self.exchangeAnswer(b, second)
        try await fleet.provider.setFault("rotate")
        #expect(try await Self.exchangeAnswer(a, second).status == 200)
        try await fleet.provider.setFault("none")
        let grants = try await fleet.provider.refreshGrants()
        let afterRotation = try await Self.exchangeAnswer(b, second)
        #expect(afterRotation.status == 200, "B exchanges with the refresh token A stored: \(afterRotation.json)")
        #expect(afterRotation.json["access_token"] as? String != held.json["access_token"] as? String)
        #expect(try await fleet.provider.refreshGrants() == grants + 1)
    }
}
