import EnclaveConfiguration
import EnclaveCrypto
import Foundation

/// The data key that seals refresh tokens. Remote mode takes ENCLAVE_DATA_KEY; local mode without
/// it generates one into `<state dir>/data.key` (mode 0600) on first start and reuses it after.
enum DataKey {
    static func resolve(configured: [UInt8]?, stateDirectory: String) throws -> [UInt8] {
        if let configured { return configured }
        let path = (stateDirectory as NSString).appendingPathComponent("data.key")
        try PrivateFiles.createDirectory(stateDirectory)
        if let data = FileManager.default.contents(atPath: path) {
            guard let text = String(data: data, encoding: .utf8), let key = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)),
                key.count == 32
            else { throw DataKeyError.unreadable }
            return [UInt8](key)
        }
        let key = try SecureRandom.bytes(32)
        // 0600 from the first byte: the key never exists with wider permissions.
        do {
            try PrivateFiles.createExclusive(path, contents: Data(Data(key).base64EncodedString().utf8))
        } catch {
            throw DataKeyError.unwritable
        }
        return key
    }
}

enum DataKeyError: Error, CustomStringConvertible {
    case unreadable, unwritable
    var description: String {
        switch self {
        case .unreadable: return "the local data key file is not base64 of 32 bytes"
        case .unwritable: return "the local data key file could not be created"
        }
    }
}
