import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// How many records each data-key version seals, as last counted: the gauge
/// `enclave_sealed_records{key_version}` and `/healthz`'s `previous_key_records` read it.
final class SealedRecordCounts: Sendable {
    let currentVersion: Int
    private let counts = Mutex<[Int: Int]>([:])

    init(currentVersion: Int) { self.currentVersion = currentVersion }

    var byVersion: [Int: Int] { counts.withLock { $0 } }
    /// Records under any version but the current one (listed or not).
    var underPreviousVersions: Int { byVersion.filter { $0.key != currentVersion }.values.reduce(0, +) }

    /// A version counted before and absent now reads 0 (its records were all re-sealed).
    func replace(_ new: [Int: Int]) {
        counts.withLock { counts in
            for version in counts.keys { counts[version] = 0 }
            counts.merge(new) { $1 }
        }
    }
}

/// Rotation's background re-seal (docs/configuration.md §3, ENCLAVE_DATA_KEY_PREVIOUS): walks the
/// records still sealed under a listed earlier key in batches, in connector id order, and re-seals
/// each under the current key with a compare-and-set on its old ciphertext. So it is safe with
/// several replicas walking at once and with an exchange re-sealing or rotating the same record
/// (whoever writes first wins, the other's write does nothing), and with kill -9 at any point: each
/// record is one row written in one statement, openable before by the earlier key and after by the
/// current one. A record that does not open is left and counted. With no earlier key listed it
/// only counts, once.
struct BackgroundReseal: Service {
    let store: any ConnectorStore
    let vault: TokenVault
    let counts: SealedRecordCounts
    let logger: Logger
    var batchSize = 100
    /// Between batches, so the walk never crowds out the requests.
    var pause: Duration = .milliseconds(50)

    func run() async throws {
        await count()
        let versions = vault.previous.keys.sorted()
        guard !versions.isEmpty else { return }
        var after = "", resealed = 0, unopenable = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let batch: [ConnectorRecord]
            do {
                batch = try await store.sealedUnder(versions: versions, afterID: after, limit: batchSize)
            } catch {
                logger.warning("the re-seal walk could not read the store; it tries again", metadata: ["error": "\(type(of: error))"])
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(5)) }
                continue
            }
            guard let last = batch.last else { break }
            var changes: [ResealChange] = []
            for record in batch {
                guard let old = record.sealedRefreshToken else { continue }
                guard let token = try? vault.open(record),
                    let sealed = try? vault.seal(refreshToken: token, userID: record.userID, connectorID: record.connectorID)
                else {
                    unopenable += 1
                    continue
                }
                changes.append(ResealChange(
                    connectorID: record.connectorID, old: old, new: SealedRefreshToken(bytes: Data(sealed), keyVersion: vault.policy.keyVersion)))
            }
            do {
                resealed += try await store.reseal(changes)
            } catch {
                // The batch is read again: nothing in it was left half written.
                logger.warning("the re-seal walk could not write the store; it tries again", metadata: ["error": "\(type(of: error))"])
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(5)) }
                continue
            }
            after = last.connectorID
            await count()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.pause) }
        }
        await count()
        logger.info("re-seal walk finished", metadata: [
            "resealed": "\(resealed)", "unopenable": "\(unopenable)", "previous_key_records": "\(counts.underPreviousVersions)",
        ])
    }

    private func count() async {
        if let latest = try? await store.countByKeyVersion() { counts.replace(latest) }
    }
}
