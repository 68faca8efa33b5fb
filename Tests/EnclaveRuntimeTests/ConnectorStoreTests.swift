import EnclaveContract
import EnclaveCrypto
@testable import EnclaveRuntime
import Foundation
import GRDB
import Testing
import TestSupport

@Suite("Connector store")
struct ConnectorStoreTests {
    @Test("Revoke erases the sealed token from the database files, not only from the row")
    func revokeErasesFromFiles() async throws {
        let directory = temporaryDirectory()
        let store = try SQLiteConnectorStore(directory: directory)
        // Random bytes stand in for sealed tokens: they occur in the files only where a record put them.
        let revokedToken = try SecureRandom.bytes(96), keptToken = try SecureRandom.bytes(96)
        try await store.insert(connectorRecord("revoked", sealed: revokedToken))
        try await store.insert(connectorRecord("kept", sealed: keptToken))
        #expect(try Self.onDisk(revokedToken, in: directory) && Self.onDisk(keptToken, in: directory), "the scan must see stored tokens")

        try await store.markRevoked(connectorID: "revoked", at: 2)
        // Neither a freed cell in the table's page (secure_delete) nor an older page image in the WAL keeps it.
        #expect(try !Self.onDisk(revokedToken, in: directory), "the revoked token's ciphertext is still in the files")
        #expect(try Self.onDisk(keptToken, in: directory))
        #expect(try await store.find(connectorID: "revoked")?.sealedRefreshToken == nil)
        #expect(try await store.find(connectorID: "revoked")?.status == .revoked)
        #expect(try await store.find(connectorID: "kept")?.sealedRefreshToken == Data(keptToken))

        // The store reopens on what is left (the runtime's restart), with the WAL emptied under it.
        let reopened = try SQLiteConnectorStore(directory: directory)
        #expect(try await reopened.find(connectorID: "kept")?.sealedRefreshToken == Data(keptToken))
        try await reopened.insert(connectorRecord("later", sealed: revokedToken))
        #expect(try await reopened.find(connectorID: "later") != nil)
    }

    @Test("Every commit reaches the disk before it is answered (synchronous = FULL), and deleted content is zeroed")
    func durability() async throws {
        let store = try SQLiteConnectorStore(directory: temporaryDirectory())
        let (synchronous, secureDelete) = try await store.pool.write { db in
            (try Int.fetchOne(db, sql: "PRAGMA synchronous"), try Int.fetchOne(db, sql: "PRAGMA secure_delete"))
        }
        #expect(synchronous == 2 && secureDelete == 1)
    }

    @Test("Rotation: records under listed versions, a compare-and-set re-seal, counts by version; two walks at once re-seal every record once")
    func resealWalk() async throws {
        try await ResealContract.storeOperations(try SQLiteConnectorStore(directory: temporaryDirectory()))
        try await ResealContract.twoWalkers(try SQLiteConnectorStore(directory: temporaryDirectory()))
    }

    @Test("A record reads back field for field, by position; an unknown status throws")
    func readBack() async throws {
        let store = try SQLiteConnectorStore(directory: temporaryDirectory())
        try await ConnectorStoreContract.readBack(store)
        try await ConnectorStoreContract.updates(store)

        // (Numbers and text are converted as SQLite converts them, with Codable as now.)
        try await store.insert(connectorRecord("unknown-status", sealed: [1]))
        try await store.pool.write { db in try db.execute(sql: "UPDATE connectors SET status = 'gone' WHERE connector_id = 'unknown-status'") }
        await #expect(throws: (any Error).self) { try await store.find(connectorID: "unknown-status") }
    }

    /// Whether any 16 consecutive bytes of `bytes` occur in the database file or its WAL: a new
    /// cell written over part of a freed one leaves the rest of it behind.
    static func onDisk(_ bytes: [UInt8], in directory: String) throws -> Bool {
        let pieces = stride(from: 0, through: bytes.count - 16, by: 8).map { Data(bytes[$0..<$0 + 16]) }
        return try ["connectors.sqlite", "connectors.sqlite-wal"].contains { name in
            let path = directory + "/" + name
            guard FileManager.default.fileExists(atPath: path) else { return false }
            let file = try Data(contentsOf: URL(fileURLWithPath: path))
            return pieces.contains { file.range(of: $0) != nil }
        }
    }

    @Test("A record under a listed earlier data key opens; one under an unlisted version or another key id is decrypt_not_authorized")
    func previousDataKeys() throws {
        let old = try SecureRandom.bytes(32), current = try SecureRandom.bytes(32)
        let before = TokenVault(sealer: try Sealer(key: old), policy: KeyPolicy(keyID: "k", keyVersion: 1))
        let sealed = try before.seal(refreshToken: "1//r", userID: "u", connectorID: "c")
        let record = ConnectorRecord(
            connectorID: "c", userID: "u", provider: "google", scopes: "s", status: .active, createdAt: 1, updatedAt: 1, keyID: "k",
            keyVersion: 1, sealedRefreshToken: Data(sealed))
        let rotated = TokenVault(sealer: try Sealer(key: current), policy: KeyPolicy(keyID: "k", keyVersion: 2), previous: [1: try Sealer(key: old)])
        #expect(try rotated.open(record) == "1//r" && rotated.needsReseal(record))
        let forgot = TokenVault(sealer: try Sealer(key: current), policy: KeyPolicy(keyID: "k", keyVersion: 2))
        func refusal(_ vault: TokenVault, _ record: ConnectorRecord) -> RPCErrorCode? {
            do throws(RPCError) { _ = try vault.open(record); return nil } catch { return error.code }
        }
        #expect(refusal(forgot, record) == .decryptNotAuthorized)
        var otherID = record
        otherID.keyID = "other"
        #expect(refusal(rotated, otherID) == .decryptNotAuthorized)
        let wrongKey = TokenVault(sealer: try Sealer(key: current), policy: KeyPolicy(keyID: "k", keyVersion: 2), previous: [1: try Sealer(key: current)])
        #expect(refusal(wrongKey, record) == .connectorTokenDecryptFailed)
    }
}
