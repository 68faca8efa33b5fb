import CEnclaveCore

public enum BLAKE2b {
    /// BLAKE2b of `input` with `outputLength` (1...64) bytes, keyed when `key` is non-empty (up to 64 bytes).
    public static func hash(_ input: RawSpan, key: [UInt8] = [], outputLength: Int = 64) throws -> [UInt8] {
        guard (1...Int(EC_BLAKE2B_MAX_BYTES)).contains(outputLength) else { throw EnclaveCryptoError.invalidArgument }
        guard key.count <= Int(EC_BLAKE2B_KEY_MAX_BYTES) else { throw EnclaveCryptoError.invalidKeyLength }
        return try withBytes(input) { i, n in
            try key.withUnsafeBufferPointer { k in
                try .filled(count: outputLength) { ec_blake2b($0, outputLength, i, n, k.baseAddress, k.count) }
            }
        }
    }

    public static func hash(_ input: [UInt8], key: [UInt8] = [], outputLength: Int = 64) throws -> [UInt8] {
        try hash(input.span.bytes, key: key, outputLength: outputLength)
    }
}

extension BLAKE2b {
    /// A 64-bit keyed BLAKE2b fingerprint of `text`'s UTF-8 bytes, computed without allocating.
    /// `key` must be 1...64 bytes.
    public static func fingerprint64(_ text: String, key: [UInt8]) -> UInt64 {
        precondition((1...Int(EC_BLAKE2B_KEY_MAX_BYTES)).contains(key.count), "fingerprint key must be 1...64 bytes")
        var out: UInt64 = 0
        let rc = withUTF8Pointer(text) { input, count in
            key.withUnsafeBufferPointer { k in
                withUnsafeMutableBytes(of: &out) {
                    ec_blake2b($0.baseAddress!.assumingMemoryBound(to: UInt8.self), 8, input, count, k.baseAddress, k.count)
                }
            }
        }
        precondition(rc == 0, "ec_blake2b failed")
        return out
    }
}
