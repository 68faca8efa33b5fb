import EnclaveCrypto
@testable import EnclaveRuntime
import Foundation
import GRDB
import Testing
import TestSupport

/// Rotating the data key with ENCLAVE_DATA_KEY_PREVIOUS (docs/configuration.md §3), with a real
/// runtime restarted on one state directory: records under the listed earlier key open and are
/// re-sealed under the current key by their next exchange; once the earlier key is dropped, a
/// re-sealed record still opens and one never exchanged is 403 decrypt_not_authorized.
@Suite("Data-key rotation, live", .serialized)
struct DataKeyRotationTests {
    @Test("Version 1 to 2: the listed old key opens, the next exchange re-seals, the walk re-seals the rest; an unlisted version is refused")
    func rotation() async throws {
        let provider = try ProviderProcess()
        let state = temporaryDirectory()
        let old = Data((0..<32).map { UInt8($0) }).base64EncodedString(), current = Data((0..<32).map { UInt8(255 - $0) }).base64EncodedString()
        func start(_ extra: [String: String]) async throws -> RuntimeProcess {
            try await RuntimeProcess(environment: localEnvironment(provider.environment().merging(extra) { $1 }, stateDirectory: state))
        }
        func stop(_ runtime: RuntimeProcess) async throws {
            runtime.signal(SIGTERM)
            #expect(try await runtime.waitForExit() == 0)
        }
        let database = { try DatabaseQueue(path: state + "/connectors.sqlite") }
        func version(_ connector: String) throws -> Int? {
            try database().read { db in try Int.fetchOne(db, sql: "SELECT key_version FROM connectors WHERE connector_id = ?", arguments: [connector]) }
        }

        var runtime = try await start(["ENCLAVE_DATA_KEY": old])
        let exchanged = try await FleetLiveTests.register(through: runtime, provider)
        let idle = try await FleetLiveTests.register(through: runtime, provider)
        try await stop(runtime)
        #expect(try version(exchanged) == 1 && version(idle) == 1)

        runtime = try await start(["ENCLAVE_DATA_KEY": current, "KMS_KEY_VERSION": "2", "ENCLAVE_DATA_KEY_PREVIOUS": "1=\(old)"])
        let first = try await FleetLiveTests.connectorRequest(FleetLiveTests.exchange, exchanged).send(to: runtime)
        #expect(first.status == 200, "\(first.json)")
        #expect(try version(exchanged) == 2, "re-sealed in the exchange's write")
        // The one nobody exchanges is re-sealed by the background walk (backgroundReseal below).
        for _ in 0..<300 where try version(idle) != 2 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(try version(idle) == 2)
        let log = runtime.log
        try await stop(runtime)
        #expect(!log.contains(old) && !log.contains(current), "a data key reached the log")

        runtime = try await start(["ENCLAVE_DATA_KEY": current, "KMS_KEY_VERSION": "2"])
        let resealed = try await FleetLiveTests.connectorRequest(FleetLiveTests.exchange, exchanged).send(to: runtime)
        #expect(resealed.status == 200, "\(resealed.json)")
        #expect(try await FleetLiveTests.connectorRequest(FleetLiveTests.exchange, idle).send(to: runtime).status == 200)
        try await stop(runtime)

        // Version 3 without version 2 listed: a record under an unlisted version is refused.
        runtime = try await start(["ENCLAVE_DATA_KEY": Data(repeating: 9, count: 32).base64EncodedString(), "KMS_KEY_VERSION": "3"])
        let refused = try await FleetLiveTests.connectorRequest(FleetLiveTests.exchange, idle).send(to: runtime)
        #expect(refused.status == 403 && errorCode(refused.json) == "decrypt_not_authorized", "\(refused.json)")
        try await stop(runtime)
    }

    @Test("The background re-seal: an unlisted version is counted in healthz; kill -9 mid-walk leaves every record openable; a restart finishes it; the gauge follows")
    func backgroundReseal() async throws {
        let provider = try ProviderProcess()
        let state = temporaryDirectory()
        let oldKey = [UInt8](repeating: 0x11, count: 32), newKey = [UInt8](repeating: 0x22, count: 32)
        let old = Data(oldKey).base64EncodedString(), new = Data(newKey).base64EncodedString()
        func start(_ extra: [String: String]) async throws -> RuntimeProcess {
            try await RuntimeProcess(environment: localEnvironment(provider.environment().merging(extra) { $1 }, stateDirectory: state))
        }
        func stop(_ runtime: RuntimeProcess) async throws {
            runtime.signal(SIGTERM)
            let status = try await runtime.waitForExit()
            #expect(status == 0, "\(runtime.log)")
        }
        func previousKeyRecords(_ runtime: RuntimeProcess) async throws -> Int? {
            try await httpCall(.GET, runtime.base + "/healthz").json["previous_key_records"] as? Int
        }
        func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
            for _ in 0..<600 {
                if try await condition() { return }
                try await Task.sleep(for: .milliseconds(10))
            }
            Issue.record("not within 6 s: \(what)")
        }

        var runtime = try await start(["ENCLAVE_DATA_KEY": old])
        let real = try await FleetLiveTests.register(through: runtime, provider)
        try await stop(runtime)
        // 3,000 more records sealed under version 1 exactly as the runtime seals them, in one write.
        let keyID = "kms/local/alfred-refresh-token"
        let v1 = TokenVault(sealer: try Sealer(key: oldKey), policy: KeyPolicy(keyID: keyID, keyVersion: 1))
        let store = try SQLiteConnectorStore(directory: state)
        let bulk = try (0..<3000).map { i in
            let id = String(format: "bulk-%05d", i)
            return ConnectorRecord(
                connectorID: id, userID: userA, provider: "google", scopes: "s", status: .active, createdAt: 1, updatedAt: 1, keyID: keyID,
                keyVersion: 1, sealedRefreshToken: Data(try v1.seal(refreshToken: "1//bulk-\(i)", userID: userA, connectorID: id)))
        }
        try await store.pool.write { db in for record in bulk { try record.insert(db) } }

        // Version 2 with version 1 not listed: nothing re-seals, healthz says how many remain.
        runtime = try await start(["ENCLAVE_DATA_KEY": new, "KMS_KEY_VERSION": "2"])
        try await eventually("healthz counts 3,001 records under version 1") { try await previousKeyRecords(runtime) == 3001 }
        try await stop(runtime)

        // Version 1 listed: the walk starts; kill -9 once it is under way.
        runtime = try await start(["ENCLAVE_DATA_KEY": new, "KMS_KEY_VERSION": "2", "ENCLAVE_DATA_KEY_PREVIOUS": "1=\(old)"])
        try await eventually("the walk re-sealed a first batch") { (try await store.countByKeyVersion()[2] ?? 0) > 0 }
        runtime.signal(SIGKILL)
        _ = try await runtime.waitForExit()
        let atKill = try await store.countByKeyVersion()
        #expect((atKill[1] ?? 0) > 0 && (atKill[2] ?? 0) > 0 && (atKill[1] ?? 0) + (atKill[2] ?? 0) == 3001, "killed mid-walk: \(atKill)")
        let either = TokenVault(
            sealer: try Sealer(key: newKey), policy: KeyPolicy(keyID: keyID, keyVersion: 2), previous: [1: try Sealer(key: oldKey)])
        let records = try await store.sealedUnder(versions: [1, 2], afterID: "", limit: 10_000)
        #expect(records.count == 3001)
        for record in records where record.connectorID.hasPrefix("bulk-") {
            #expect(try either.open(record) == "1//bulk-\(Int(record.connectorID.dropFirst(5))!)", "every record opens after kill -9")
        }

        // A restart finishes the walk: healthz says nothing remains, the gauge moved to version 2.
        let metrics = try freePort()
        runtime = try await start([
            "ENCLAVE_DATA_KEY": new, "KMS_KEY_VERSION": "2", "ENCLAVE_DATA_KEY_PREVIOUS": "1=\(old)",
            "ENCLAVE_METRICS_BIND_ADDR": "127.0.0.1:\(metrics)",
        ])
        try await eventually("the walk finished") { try await previousKeyRecords(runtime) == nil }
        let scrape = try await PrometheusText.scrape("127.0.0.1:\(metrics)")
        #expect(scrape.value(#"enclave_sealed_records{key_version="2"}"#) == 3001)
        #expect(scrape.value(#"enclave_sealed_records{key_version="1"}"#) == 0)
        try await stop(runtime)
        #expect(!runtime.log.contains(old) && !runtime.log.contains(new))

        // Version 2 alone: every record opens, the real one exchanges.
        runtime = try await start(["ENCLAVE_DATA_KEY": new, "KMS_KEY_VERSION": "2"])
        let exchanged = try await FleetLiveTests.connectorRequest(FleetLiveTests.exchange, real).send(to: runtime)
        #expect(exchanged.status == 200, "\(exchanged.json)")
        #expect(try await store.countByKeyVersion() == [2: 3001])
        try await stop(runtime)
    }
}
