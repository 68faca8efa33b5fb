import EnclaveContract
import EnclaveCrypto

/// Seals and opens refresh tokens under the data key. The associated data binds user id,
/// connector id, key id and key version, each length-prefixed so no two records share it.
struct TokenVault: Sendable {
    let sealer: Sealer
    let policy: KeyPolicy

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

    /// The refresh token of `record`: its key id and version are checked against the policy first.
    func open(_ record: ConnectorRecord) throws(RPCError) -> String {
        guard record.keyID == policy.keyID, record.keyVersion == policy.keyVersion else {
            throw RPCError(.decryptNotAuthorized, "the connector's key id or version is not allowed by the key policy")
        }
        guard let sealed = record.sealedRefreshToken,
            let plain = try? sealer.open(
                [UInt8](sealed),
                associatedData: Self.associatedData(
                    userID: record.userID, connectorID: record.connectorID, keyID: record.keyID, keyVersion: record.keyVersion))
        else { throw RPCError(.connectorTokenDecryptFailed, "the connector's sealed token does not open") }
        return String(decoding: plain, as: UTF8.self)
    }
}
