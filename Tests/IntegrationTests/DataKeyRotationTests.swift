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
    @Test("Version 1 to 2: the listed old key opens, the next exchange re-seals, an unlisted version is refused")
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
        #expect(try version(exchanged) == 2 && version(idle) == 1, "re-sealed in the exchange's write, the other left as it was")
        let log = runtime.log
        try await stop(runtime)
        #expect(!log.contains(old) && !log.contains(current), "a data key reached the log")

        runtime = try await start(["ENCLAVE_DATA_KEY": current, "KMS_KEY_VERSION": "2"])
        let resealed = try await FleetLiveTests.connectorRequest(FleetLiveTests.exchange, exchanged).send(to: runtime)
        #expect(resealed.status == 200, "\(resealed.json)")
        let refused = try await FleetLiveTests.connectorRequest(FleetLiveTests.exchange, idle).send(to: runtime)
        #expect(refused.status == 403 && errorCode(refused.json) == "decrypt_not_authorized", "\(refused.json)")
        try await stop(runtime)
    }
}
