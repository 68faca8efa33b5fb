import CEnclaveCore

public enum SHA256Digest {
    /// SHA-256 of `bytes`.
    public static func of(_ bytes: [UInt8]) throws -> [UInt8] {
        try bytes.withUnsafeBufferPointer { b in try .filled(count: Int(EC_SHA256_BYTES)) { ec_sha256(b.baseAddress, b.count, $0) } }
    }
}
