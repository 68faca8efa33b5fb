import EnclaveContract
import EnclaveConfiguration
import EnclaveCrypto
@testable import EnclaveRuntime
import Foundation
import GRDB
import Testing
import TestSupport

/// The real `enclave-runtime` process against the real OAuth provider stand-in on loopback.
@Suite("Live: enclave-runtime process and a loopback OAuth server", .serialized)
struct LiveRuntimeTests {
    static let exchange = "/v1/rpc/google/token/exchange", revoke = "/v1/rpc/google/token/revoke"
    static let register = "/v1/rpc/google/connector/register", redirect = "https://app.example/oauth/callback"

    /// Registers a connector through the runtime (authorization-code grant with PKCE).
    func registerConnector(_ runtime: RuntimeProcess, _ provider: ProviderProcess, user: String = userA) async throws -> [String: Any] {
        // PKCE with the "plain" method: the provider checks the verifier the runtime forwards.
        let verifier = "verifier-" + UUID().uuidString + UUID().uuidString
        let code = try await provider.issueCode(user: user, redirectURI: Self.redirect, codeChallenge: verifier)
        let result = try await runtime.rpc(Self.register, [
            "contract_version": "v1", "request_id": "reg-1", "user_id": user, "authorization_code": code,
            "redirect_uri": Self.redirect, "code_verifier": verifier,
        ])
        #expect(result.status == 200, "register: \(result.json)")
        return result.json
    }

    /// `registerConnector`, for tests that need only the new connector's id.
    func registerConnectorID(_ runtime: RuntimeProcess, _ provider: ProviderProcess) async throws -> String {
        try #require((try await registerConnector(runtime, provider)["connector"] as? [String: Any])?["connector_id"] as? String)
    }

    /// No access token kept in memory (docs/contract.md §7a): each exchange makes a grant.
    static let everyExchangeAGrant = ["ENCLAVE_ACCESS_TOKEN_CACHE_ENTRIES": "0"]

    /// Fails the test when any secret appears in the runtime's log.
    func expectLogClean(_ runtime: RuntimeProcess, secrets: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        let log = runtime.log
        #expect(!log.isEmpty, sourceLocation: sourceLocation)
        for secret in secrets where !secret.isEmpty {
            #expect(!log.contains(secret), "a secret reached the log", sourceLocation: sourceLocation)
        }
        // Every line is one JSON object.
        for line in log.split(separator: "\n") {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any], "log line is not JSON", sourceLocation: sourceLocation)
        }
    }

    func providerSecrets(_ provider: ProviderProcess) async throws -> [String] {
        (try await provider.stats()["refresh_tokens"] as? [String] ?? []) + [ProviderProcess.clientSecret]
    }

    @Test("register, exchange, rotation, restart, revoke, revoke again, exchange after revoke")
    func lifecycle() async throws {
        let provider = try ProviderProcess()
        let state = temporaryDirectory()
        let current = "current-secret-\(UUID().uuidString)", previous = "previous-secret-\(UUID().uuidString)"
        let environment = localEnvironment(
            provider.environment().merging(["ENCLAVE_RPC_SHARED_SECRET": current, "ENCLAVE_RPC_SHARED_SECRET_PREVIOUS": previous]) { $1 },
            stateDirectory: state)
        var runtime = try await RuntimeProcess(environment: environment)

        let registered = try await registerConnector(runtime, provider)
        let connector = try #require(registered["connector"] as? [String: Any])
        let connectorID = try #require(connector["connector_id"] as? String)
        #expect(connector["user_id"] as? String == userA && connectorID == connectorID.lowercased() && UUIDSyntax.isValid(connectorID))
        #expect(registered["expires_in"] as? Int == 3599 && (registered["scope"] as? String)?.contains("gmail") == true)
        #expect(registered["attested_identity"] as? NSDictionary == ["runtime": "nitro", "measurement": "dev-local-enclave"])
        #expect(registered["refresh_token"] == nil)
        var accessTokens = [try #require(registered["access_token"] as? String)]

        let body = connectorBody(connector: connectorID, requestID: "ex-1")
        let exchanged = try await runtime.rpc(Self.exchange, body, secret: current)
        #expect(exchanged.status == 200 && exchanged.json["request_id"] as? String == "ex-1")
        #expect(exchanged.json["refresh_token"] == nil && exchanged.json["expires_in"] as? Int == 3599)
        accessTokens.append(try #require(exchanged.json["access_token"] as? String))
        #expect(try await runtime.rpc(Self.exchange, body, secret: previous).status == 200)
        let unknown = try await runtime.rpc(Self.exchange, body, secret: "unknown-secret-\(UUID().uuidString)")
        #expect(unknown.status == 401 && errorCode(unknown.json) == "invalid_request_signature")
        let foreign = try await runtime.rpc(Self.exchange, connectorBody(user: userB, connector: connectorID), secret: current)
        #expect(foreign.status == 400 && errorCode(foreign.json) == "connector_token_unavailable")

        // Restart: graceful stop, then the same state directory (data key and store persist).
        runtime.signal(SIGTERM)
        #expect(try await runtime.waitForExit() == 0)
        let firstLog = runtime
        runtime = try await RuntimeProcess(environment: environment)
        let afterRestart = try await runtime.rpc(Self.exchange, body, secret: current)
        #expect(afterRestart.status == 200, "exchange after restart: \(afterRestart.json)")

        let revoked = try await runtime.rpc(Self.revoke, connectorBody(connector: connectorID, requestID: "rv-1"), secret: current)
        #expect(revoked.status == 200 && revoked.json["request_id"] as? String == "rv-1" && revoked.json["attested_identity"] != nil)
        #expect(try await provider.stats()["revocations"] as? Int == 1)
        let again = try await runtime.rpc(Self.revoke, connectorBody(connector: connectorID, requestID: "rv-2"), secret: current)
        #expect(again.status == 200)
        #expect(try await provider.stats()["revocations"] as? Int == 1, "revoking again must not call the provider")
        let afterRevoke = try await runtime.rpc(Self.exchange, body, secret: current)
        #expect(afterRevoke.status == 400 && errorCode(afterRevoke.json) == "connector_token_unavailable")
        let unknownConnector = try await runtime.rpc(Self.revoke, connectorBody(connector: UUID().uuidString), secret: current)
        #expect(unknownConnector.status == 400 && errorCode(unknownConnector.json) == "connector_token_unavailable")

        let dataKey = (try? String(contentsOfFile: state + "/data.key", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        #expect(!dataKey.isEmpty)
        let attributes = try FileManager.default.attributesOfItem(atPath: state + "/data.key")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let secrets = try await providerSecrets(provider) + accessTokens + [current, previous, dataKey]
        expectLogClean(firstLog, secrets: secrets)
        expectLogClean(runtime, secrets: secrets)
    }

    @Test("The runtime's process writes no core file and is not dumpable")
    func processProtection() async throws {
        let runtime = try await RuntimeProcess(environment: localEnvironment())
        #expect(coreFileLimits(runtime.process) == ["0", "0"])
        // Read back by the runtime itself: whether it is dumpable is visible to the process only.
        let line = runtime.log.split(separator: "\n").first { $0.contains(#""message":"process protection""#) }
        #expect(line?.contains(#""in_place":"true""#) == true, "\(line ?? "no process protection line")")
    }

    @Test("Exchange: the provider connection is kept alive; a changed scope is stored, an unchanged one writes nothing")
    func exchangeBookkeeping() async throws {
        let provider = try ProviderProcess()
        let state = temporaryDirectory()
        // Every exchange a grant (no access token kept in memory): the bookkeeping of each is what is judged.
        let runtime = try await RuntimeProcess(environment: localEnvironment(provider.environment().merging(Self.everyExchangeAGrant) { $1 }, stateDirectory: state))
        let connectorID = try await registerConnectorID(runtime, provider)
        let database = try DatabaseQueue(path: state + "/connectors.sqlite")
        func stored() async throws -> (scopes: String, updatedAt: Int64) {
            let found = try database.read { db in
                try Row.fetchOne(db, sql: "SELECT scopes, updated_at FROM connectors WHERE connector_id = ?", arguments: [connectorID])
            }
            let row = try #require(found)
            return (row["scopes"], row["updated_at"])
        }
        // A marker that any write of the record by an exchange would replace.
        try await database.write { db in
            try db.execute(sql: "UPDATE connectors SET updated_at = 1 WHERE connector_id = ?", arguments: [connectorID])
        }
        let registeredScopes = try await stored().scopes
        let body = connectorBody(connector: connectorID, requestID: "ex-1")
        for _ in 0..<3 {
            #expect(try await runtime.rpc(Self.exchange, body).status == 200)
        }
        let unchanged = try await stored()
        #expect(unchanged.scopes == registeredScopes && unchanged.updatedAt == 1, "an exchange with the same scope wrote the record")
        #expect(try await provider.stats()["token_connections"] as? Int == 1, "register and three exchanges on one kept-alive connection")

        try await provider.setFault("other_scope")
        let widened = try await runtime.rpc(Self.exchange, body)
        let scope = try #require(widened.json["scope"] as? String)
        let changed = try await stored()
        #expect(widened.status == 200 && scope != registeredScopes)
        #expect(changed.scopes == scope && changed.updatedAt > 1)
    }

    @Test("Provider faults map to their contract codes and the runtime stays healthy")
    func providerFaults() async throws {
        let provider = try ProviderProcess()
        let runtime = try await RuntimeProcess(environment: localEnvironment(provider.environment().merging(["ENCLAVE_PROVIDER_TIMEOUT_MS": "800"]) { $1 }))
        let connectorID = try await registerConnectorID(runtime, provider)
        let body = connectorBody(connector: connectorID, requestID: "f-1")

        let cases: [(mode: String, status: Int, code: String, retryable: Bool, providerStatus: Int?, oauthError: String?)] = [
            ("500", 502, "provider_failed", true, 500, "internal_failure"),
            ("invalid_grant", 502, "provider_failed", false, 400, "invalid_grant"),
            ("not_json", 502, "provider_response_invalid", true, nil, nil),
            ("no_access_token", 502, "provider_response_invalid", true, nil, nil),
            ("oversized", 502, "provider_response_invalid", true, nil, nil),
            ("hang", 502, "provider_unavailable", true, nil, nil),
        ]
        for fault in cases {
            try await provider.setFault(fault.mode)
            let started = ContinuousClock.now
            let result = try await runtime.rpc(Self.exchange, body)
            let error = result.json["error"] as? [String: Any]
            #expect(result.status == fault.status && errorCode(result.json) == fault.code, "\(fault.mode): \(result.json)")
            #expect(error?["retryable"] as? Bool == fault.retryable, "\(fault.mode)")
            #expect(error?["provider_status"] as? Int == fault.providerStatus, "\(fault.mode)")
            #expect(error?["oauth_error"] as? String == fault.oauthError, "\(fault.mode)")
            #expect(ContinuousClock.now - started < .seconds(5), "\(fault.mode) must not hang")
            #expect(try await httpCall(.GET, runtime.base + "/healthz").status == 200)
        }
        try await provider.setFault("none")
        #expect(try await runtime.rpc(Self.exchange, body).status == 200)

        // Register without a refresh token in the provider's answer.
        try await provider.setFault("no_refresh_token")
        let code = try await provider.issueCode(user: userA, redirectURI: Self.redirect)
        let noRefresh = try await runtime.rpc(Self.register, [
            "contract_version": "v1", "request_id": "reg-2", "user_id": userA, "authorization_code": code, "redirect_uri": Self.redirect,
        ])
        #expect(noRefresh.status == 502 && errorCode(noRefresh.json) == "provider_response_invalid")

        // Revoke: a provider 5xx is a retryable provider_failed; "invalid_token" counts as revoked.
        try await provider.setFault("500")
        let failedRevoke = try await runtime.rpc(Self.revoke, body)
        #expect(failedRevoke.status == 502 && errorCode(failedRevoke.json) == "provider_failed")
        #expect((failedRevoke.json["error"] as? [String: Any])?["retryable"] as? Bool == true)
        try await provider.setFault("forget_tokens")
        #expect(try await runtime.rpc(Self.revoke, body).status == 200)
        #expect(errorCode(try await runtime.rpc(Self.exchange, body).json) == "connector_token_unavailable")

        // Connection refused.
        let closed = try freePort()
        let unreachable = try await RuntimeProcess(environment: localEnvironment([
            "GOOGLE_OAUTH_CLIENT_ID": "c", "GOOGLE_OAUTH_CLIENT_SECRET": "s",
            "GOOGLE_OAUTH_TOKEN_URL": "http://127.0.0.1:\(closed)/token", "GOOGLE_OAUTH_REVOKE_URL": "http://127.0.0.1:\(closed)/revoke",
        ]))
        let refused = try await unreachable.rpc(Self.register, [
            "contract_version": "v1", "request_id": "reg-3", "user_id": userA, "authorization_code": "code", "redirect_uri": Self.redirect,
        ])
        #expect(refused.status == 502 && errorCode(refused.json) == "provider_unavailable")
        #expect((refused.json["error"] as? [String: Any])?["retryable"] as? Bool == true)
        expectLogClean(runtime, secrets: try await providerSecrets(provider))
    }

    @Test("One deadline bounds a whole provider call: a body dripped one byte every 0.7 s is provider_unavailable at the deadline")
    func providerBodyDeadline() async throws {
        let provider = try ProviderProcess()
        let runtime = try await RuntimeProcess(environment: localEnvironment(provider.environment().merging(["ENCLAVE_PROVIDER_TIMEOUT_MS": "1000"]) { $1 }))
        let connectorID = try await registerConnectorID(runtime, provider)
        try await provider.setFault("drip")  // the head at once, then about 150 bytes at 0.7 s each
        let started = ContinuousClock.now
        let result = try await runtime.rpc(Self.exchange, connectorBody(connector: connectorID, requestID: "drip-1"))
        let took = ContinuousClock.now - started
        #expect(result.status == 502 && errorCode(result.json) == "provider_unavailable", "\(result.json)")
        #expect(took < .milliseconds(2500), "the exchange took \(took): the deadline stopped at the response head")
        try await provider.setFault("none")
        #expect(try await runtime.rpc(Self.exchange, connectorBody(connector: connectorID, requestID: "drip-2")).status == 200)
    }

    @Test("A provider that rotates refresh tokens: the new one is sealed and used by the next exchange")
    func rotatedRefreshToken() async throws {
        let provider = try ProviderProcess()
        let state = temporaryDirectory()
        let runtime = try await RuntimeProcess(environment: localEnvironment(provider.environment().merging(Self.everyExchangeAGrant) { $1 }, stateDirectory: state))
        let connectorID = try await registerConnectorID(runtime, provider)
        try await provider.setFault("rotate")
        for round in 0..<3 {  // each exchange spends the stored token and stores the new one
            let rotated = try await runtime.rpc(Self.exchange, connectorBody(connector: connectorID, requestID: "rot-\(round)"))
            #expect(rotated.status == 200, "round \(round): \(rotated.json)")
        }
        #expect(try await provider.stats()["rotations"] as? Int == 3)
        try await provider.setFault("none")
        let after = try await runtime.rpc(Self.exchange, connectorBody(connector: connectorID, requestID: "rot-after"))
        #expect(after.status == 200, "the exchange after rotation must use the newest refresh token: \(after.json)")
        // Sealed, not in the clear: no refresh token the provider issued is in the store's files.
        let issued = try await provider.stats()["refresh_tokens"] as? [String] ?? []
        for name in ["connectors.sqlite", "connectors.sqlite-wal"] {
            let bytes = (try? Data(contentsOf: URL(fileURLWithPath: state + "/" + name))) ?? Data()
            for token in issued { #expect(bytes.range(of: Data(token.utf8)) == nil, "\(name) holds a refresh token in the clear") }
        }
        expectLogClean(runtime, secrets: try await providerSecrets(provider))
    }

    @Test("A remote document whose runtime or measurement the evidence cannot carry stops the start (exit 78)")
    func remoteDocumentFields() async throws {
        let seed = Data((0..<32).map { UInt8($0) }).base64EncodedString()
        for (runtime, measurement) in [("nitro", "m|1"), ("nitro", "m\u{1}"), ("nitro", "m\u{85}"), ("ni|tro", "m")] {
            let document = String(decoding: json(["runtime": runtime, "measurement": measurement]), as: UTF8.self)
            let (status, output) = try await runUntilExit([
                "ALFRED_ENV": "staging", "ENCLAVE_RPC_SHARED_SECRET": String(repeating: "s", count: 32),
                "TEE_EXPECTED_RUNTIME": runtime, "TEE_ALLOWED_MEASUREMENTS": measurement,
                "TEE_ATTESTATION_SIGNING_PRIVATE_KEY": seed, "TEE_ATTESTATION_DOCUMENT": document,
                "ENCLAVE_DATA_KEY": Data(repeating: 7, count: 32).base64EncodedString(), "GOOGLE_OAUTH_CLIENT_ID": "c",
                "GOOGLE_OAUTH_CLIENT_SECRET": "s",
            ])
            #expect(status == 78, "\(measurement): \(output)")
            #expect(output.contains("TEE_ATTESTATION_DOCUMENT runtime and measurement must hold no '|'"), "\(output)")
        }
    }

    @Test("SIGTERM during in-flight requests: they complete, exit status 0")
    func gracefulShutdown() async throws {
        let provider = try ProviderProcess()
        let runtime = try await RuntimeProcess(environment: localEnvironment(provider.environment()))
        let connectorID = try await registerConnectorID(runtime, provider)
        try await provider.setFault("slow")  // each token call takes 1 s
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<6 {
                group.addTask { try await runtime.rpc(Self.exchange, connectorBody(connector: connectorID, requestID: "in-flight-\(i)")).status }
            }
            try await Task.sleep(for: .milliseconds(300))
            runtime.signal(SIGTERM)
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses == Array(repeating: 200, count: 6))
        #expect(try await runtime.waitForExit() == 0)
        #expect(runtime.log.contains("\"stopped\""))
    }

    @Test("A broken configuration exits 78 before listening, with one line naming the variable")
    func configurationExit() async throws {
        let secret = "short-secret"
        let (status, output) = try await runUntilExit(["ALFRED_ENV": "production", "ENCLAVE_RPC_SHARED_SECRET": secret])
        #expect(status == 78)
        #expect(output.split(separator: "\n").count == 1 && output.contains("ENCLAVE_RPC_SHARED_SECRET") && !output.contains(secret))
    }

    @Test("A replay capacity beyond this machine's memory exits 78 before the start, naming the largest allowed")
    func replayCapacityExit() async throws {
        // Twice the largest: it used to start, then fail the table's allocation or fill the memory.
        // The runtime sees the same memory as this test.
        let largest = ReplayCache.largestCapacity(tableBytes: SystemMemory.availableBytes() / 2)
        let (status, output) = try await runUntilExit([
            "TEE_ATTESTATION_REQUIRED": "false", "TEE_ALLOW_INSECURE_DEV_ATTESTATION": "true",
            "ENCLAVE_RPC_REPLAY_CAPACITY": String(2 * largest),
        ])
        #expect(status == 78)
        #expect(output.split(separator: "\n").count == 1, "\(output)")
        #expect(output.contains("ENCLAVE_RPC_REPLAY_CAPACITY must fit the replay table") && output.contains("at most \(largest)"))
    }

    /// Runs the runtime with `environment` and no other variable but PATH; its status and stderr.
    private func runUntilExit(_ environment: [String: String]) async throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: builtProduct("enclave-runtime"))
        defer { if process.isRunning { process.terminate() } }
        process.environment = environment.merging(["PATH": "/usr/bin:/bin"]) { $1 }
        process.currentDirectoryURL = URL(fileURLWithPath: temporaryDirectory())
        let stderr = Pipe()
        process.standardError = stderr
        try process.run()
        let status = try await waitForExit(process)
        return (status, String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }
}
