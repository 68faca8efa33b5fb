import CEnclaveCore

/// AES-256-GCM sealing under one data key: `seal` output is nonce || ciphertext || tag, with the
/// associated data bound in. The key is kept in memory of its own and wiped on release. Thread-safe.
public final class Sealer: Sendable {
    private let key: SecretBytes

    public init(key: [UInt8]) throws {
        guard key.count == Int(EC_SEAL_KEY_BYTES) else { throw EnclaveCryptoError.invalidKeyLength }
        self.key = SecretBytes(key.span.bytes)
    }

    public func seal(_ plaintext: [UInt8], associatedData: [UInt8]) throws -> [UInt8] {
        let capacity = plaintext.count + Int(EC_SEAL_OVERHEAD_BYTES)
        return try key.withUnsafeBytes { k in
            try plaintext.withUnsafeBufferPointer { p in
                try associatedData.withUnsafeBufferPointer { a in
                    try .filled(count: capacity) { out in
                        var written = 0
                        return ec_seal(k, a.baseAddress, a.count, p.baseAddress, p.count, out, capacity, &written)
                    }
                }
            }
        }
    }

    /// The plaintext, or `EnclaveCryptoError.openFailed` when key, data, nonce, tag or length differ.
    public func open(_ sealed: [UInt8], associatedData: [UInt8]) throws -> [UInt8] {
        guard sealed.count >= Int(EC_SEAL_OVERHEAD_BYTES) else { throw EnclaveCryptoError.openFailed }
        let capacity = sealed.count - Int(EC_SEAL_OVERHEAD_BYTES)
        do {
            return try key.withUnsafeBytes { k in
                try sealed.withUnsafeBufferPointer { s in
                    try associatedData.withUnsafeBufferPointer { a in
                        try .filled(count: capacity) { out in
                            var written = 0
                            return ec_open(k, a.baseAddress, a.count, s.baseAddress!, s.count, out, capacity, &written)
                        }
                    }
                }
            }
        } catch {
            throw EnclaveCryptoError.openFailed
        }
    }
}
