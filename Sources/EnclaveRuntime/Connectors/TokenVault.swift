import EnclaveContract
import EnclaveCrypto

/// Seals and opens refresh tokens under the data key. The associated data binds user id,
/// connector id, key id and key version, each length-prefixed so no two records share it.
/// Records sealed under an earlier key version open while that version's key is configured
/// (ENCLAVE_DATA_KEY_PREVIOUS); `seal` always uses the current one.
struct TokenVault: Sendable {
    let sealer: Sealer
    let policy: KeyPolicy
    /// Earlier data keys by version.
    var previous: [Int: Sealer] = [:]

    static func associatedData(userID: String, connectorID: String, keyID: String, keyVersion: Int) -> [UInt8] {
        var out = Array("alfred-connector-token-v1".utf8)
        for field in [userID, connectorID, keyID, String(keyVersion)] {
            let bytes = Array(field.utf8)
            let length = UInt32(bytes.count)
            out += [UInt8(length >> 24), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)]
            out += bytes
        }
        return out
    }

    func seal(refreshToken: String, userID: String, connectorID: String) throws -> [UInt8] {
        try sealer.seal(
            Array(refreshToken.utf8),
            associatedData: Self.associatedData(userID: userID, connectorID: connectorID, keyID: policy.keyID, keyVersion: policy.keyVersion))
    }

    /// The refresh token of `record`: its key id, and a version that is the current one or a listed
    /// earlier one, are checked first.
    func open(_ record: ConnectorRecord) throws(RPCError) -> String {
        let opener = record.keyID != policy.keyID ? nil : record.keyVersion == policy.keyVersion ? sealer : previous[record.keyVersion]
        guard let opener else {
            throw RPCError(.decryptNotAuthorized, "the connector's key id or version is not allowed by the key policy")
        }
        guard let sealed = record.sealedRefreshToken,
            let plain = try? opener.open(
                [UInt8](sealed),
                associatedData: Self.associatedData(
                    userID: record.userID, connectorID: record.connectorID, keyID: record.keyID, keyVersion: record.keyVersion))
        else { throw RPCError(.connectorTokenDecryptFailed, "the connector's sealed token does not open") }
        return String(decoding: plain, as: UTF8.self)
    }

    /// Whether `record` is sealed under an earlier key version than the current one.
    func needsReseal(_ record: ConnectorRecord) -> Bool { record.keyVersion != policy.keyVersion }
}
