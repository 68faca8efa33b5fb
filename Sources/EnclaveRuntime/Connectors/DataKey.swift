import EnclaveStorage
import EnclaveCrypto
import Foundation

/// The data key that seals refresh tokens. Remote mode takes ENCLAVE_DATA_KEY; local mode without
/// it generates one into `<state dir>/data.key` (mode 0600) on first start and reuses it after.
enum DataKey {
    static func resolve(configured: [UInt8]?, stateDirectory: String) throws -> [UInt8] {
        if let configured { return configured }
        let path = (stateDirectory as NSString).appendingPathComponent("data.key")
        try PrivateFiles.createDirectory(stateDirectory)
        if let existing = try read(path) { return existing }
        let key = try SecureRandom.bytes(32)
        // 0600 from the first byte: the key never exists with wider permissions.
        do {
            try PrivateFiles.createExclusive(path, contents: Data(Data(key).base64EncodedString().utf8))
        } catch {
            throw DataKeyError(path: path, rule: "could not be created")
        }
        return key
    }

    /// The key in an existing file, nil when there is none. The file must be what this runtime
    /// wrote: a regular file (not a link another user could point elsewhere), mode 0600, owned by
    /// this process's user; anything else is refused rather than trusted or repaired.
    static func read(_ path: String) throws -> [UInt8]? {
        var status = stat()
        guard lstat(path, &status) == 0 else {
            if errno == ENOENT { return nil }
            throw DataKeyError(path: path, rule: "cannot be examined")
        }
        guard status.st_mode & S_IFMT == S_IFREG else { throw DataKeyError(path: path, rule: "must be a regular file, not a link") }
        guard status.st_mode & 0o7777 == PrivateFiles.fileMode else { throw DataKeyError(path: path, rule: "must have mode 0600") }
        guard status.st_uid == geteuid() else { throw DataKeyError(path: path, rule: "must be owned by the runtime's user") }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8),
            let key = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), key.count == 32
        else { throw DataKeyError(path: path, rule: "must hold base64 of 32 bytes") }
        return [UInt8](key)
    }
}

/// A local data key file that cannot be used; names the file and the rule, never its contents.
public struct DataKeyError: Error, CustomStringConvertible {
    public let path: String
    public let rule: String
    public var description: String { "the local data key \(path) \(rule)" }
}
