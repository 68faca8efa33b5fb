import EnclaveStorage
import EnclaveConfiguration
@testable import EnclaveRuntime
import Foundation
import Testing
import TestSupport

@Suite("State files")
struct PrivateFilesTests {
    @Test("The data key and the store (database, WAL, index) are 0600 in an operator's 0755 directory; a new directory is 0700")
    func ownerOnly() async throws {
        let directory = temporaryDirectory()
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory)
        _ = try DataKey.resolve(configured: nil, stateDirectory: directory)
        let store = try SQLiteConnectorStore(directory: directory)
        try await store.insert(connectorRecord("a", sealed: [1, 2, 3]))
        for name in ["data.key", "connectors.sqlite", "connectors.sqlite-wal", "connectors.sqlite-shm"] {
            #expect(try fileMode(directory + "/" + name) == 0o600, "\(name)")
        }
        #expect(try fileMode(directory) == 0o755, "an existing directory keeps the operator's mode")

        let created = temporaryDirectory() + "/state"
        _ = try SQLiteConnectorStore(directory: created)
        #expect(try fileMode(created) == 0o700)
    }

    @Test("A store made with wider permissions is narrowed to 0600 when it is opened")
    func narrowsExisting() async throws {
        let directory = temporaryDirectory()
        do {
            let store = try SQLiteConnectorStore(directory: directory)
            try await store.insert(connectorRecord("a", sealed: [1, 2, 3]))
        }
        let database = directory + "/connectors.sqlite"
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: database)
        let reopened = try SQLiteConnectorStore(directory: directory)
        #expect(try await reopened.find(connectorID: "a") != nil)
        #expect(try fileMode(database) == 0o600)
    }

    @Test("A file or a symbolic link already in the key's place is neither overwritten nor written through")
    func exclusiveCreation() throws {
        let directory = temporaryDirectory()
        let target = directory + "/elsewhere"
        try FileManager.default.createSymbolicLink(atPath: directory + "/data.key", withDestinationPath: target)
        #expect(throws: DataKeyError.self) { try DataKey.resolve(configured: nil, stateDirectory: directory) }
        #expect(!FileManager.default.fileExists(atPath: target))

        let existing = directory + "/existing"
        try Data("kept".utf8).write(to: URL(fileURLWithPath: existing))
        #expect(throws: PrivateFileError.self) { try PrivateFiles.createExclusive(existing, contents: Data("new".utf8)) }
        #expect(try String(contentsOfFile: existing, encoding: .utf8) == "kept")
        #expect(throws: PrivateFileError.self) { try PrivateFiles.restrict(directory + "/data.key") }
    }

    @Test("An existing data key is used only as this runtime wrote it: a regular file of mode 0600 owned by its user")
    func existingKeyRules() throws {
        let directory = temporaryDirectory()
        let key = try DataKey.resolve(configured: nil, stateDirectory: directory)
        #expect(try DataKey.resolve(configured: nil, stateDirectory: directory) == key)
        let path = directory + "/data.key"
        func refusal() -> String? {
            do {
                _ = try DataKey.resolve(configured: nil, stateDirectory: directory)
                return nil
            } catch {
                return "\(error)"
            }
        }
        // Readable by others: refused, naming the file and the rule, never the key.
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        let wide = try #require(refusal())
        #expect(wide.contains(path) && wide.contains("mode 0600") && !wide.contains(Data(key).base64EncodedString()))
        try FileManager.default.setAttributes([.posixPermissions: 0o400], ofItemAtPath: path)
        #expect(refusal()?.contains("mode 0600") == true)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        // A symbolic link to a perfectly good key file is refused too: whoever can replace the link chooses the key.
        let linked = temporaryDirectory()
        try FileManager.default.createSymbolicLink(atPath: linked + "/data.key", withDestinationPath: path)
        #expect(throws: DataKeyError.self) { try DataKey.resolve(configured: nil, stateDirectory: linked) }
        // Owned by another user (root can give the file away; elsewhere this part is skipped).
        if geteuid() == 0 {
            #expect(chown(path, 65534, 65534) == 0)
            #expect(refusal()?.contains("owned by") == true)
        }
    }
}
