import CEnclaveCore

/// Sizes and version of the loaded C core.
public enum EnclaveCore {
    public static var version: String { String(cString: ec_version_string()) }
    public static let rpcMACBytes = Int(EC_RPC_MAC_BYTES)
    public static let rpcSignatureHexBytes = Int(EC_RPC_SIG_HEX_BYTES)
    public static let ed25519SeedBytes = Int(EC_ED25519_SEED_BYTES)
    public static let ed25519PublicKeyBytes = Int(EC_ED25519_PUBLIC_KEY_BYTES)
    public static let ed25519SignatureBytes = Int(EC_ED25519_SIGNATURE_BYTES)
    public static let sealKeyBytes = Int(EC_SEAL_KEY_BYTES)
    public static let sealOverheadBytes = Int(EC_SEAL_OVERHEAD_BYTES)

    /// The same sizes as the C core reports them at run time (a test checks they agree).
    public static var runtimeSizes: [Int] {
        [ec_rpc_mac_bytes(), ec_rpc_sig_hex_bytes(), ec_ed25519_seed_bytes(), ec_ed25519_public_key_bytes(),
         ec_ed25519_signature_bytes(), ec_seal_key_bytes(), ec_seal_overhead_bytes()].map { Int($0) }
    }
    public static var compiledSizes: [Int] {
        [rpcMACBytes, rpcSignatureHexBytes, ed25519SeedBytes, ed25519PublicKeyBytes, ed25519SignatureBytes,
         sealKeyBytes, sealOverheadBytes]
    }
}

public enum ConstantTime {
    /// True when `a` and `b` are equal; time depends only on the lengths.
    public static func equals(_ a: RawSpan, _ b: RawSpan) -> Bool {
        guard a.byteCount == b.byteCount else { return false }
        return withBytes(a) { pa, n in withBytes(b) { pb, _ in ec_ct_compare(pa, pb, n) == 0 } }
    }

    public static func equals(_ a: [UInt8], _ b: [UInt8]) -> Bool { equals(a.span.bytes, b.span.bytes) }

    public static func equals(_ a: String, _ b: String) -> Bool {
        withUTF8Pointer(a) { pa, na in
            withUTF8Pointer(b) { pb, nb in na == nb && ec_ct_compare(pa, pb, na) == 0 }
        }
    }
}

public enum SecureRandom {
    /// `count` bytes from the operating system's CSPRNG.
    public static func bytes(_ count: Int) throws -> [UInt8] {
        do {
            return try .filled(count: count) { ec_random($0, count) }
        } catch {
            throw EnclaveCryptoError.randomUnavailable
        }
    }
}

/// Syntax checks of the signed-RPC headers (docs/contract.md §2).
public enum RPCHeaderSyntax {
    /// The value of `x-alfred-rpc-ts`: 1 to 19 ASCII digits within Int64, else nil.
    public static func timestamp(_ text: String) -> Int64? {
        var value: Int64 = 0
        return withUTF8Pointer(text) { ec_parse_timestamp($0, $1, &value) } == 0 ? value : nil
    }

    /// Whether `text` is a valid `x-alfred-rpc-nonce`: 1 to 128 bytes of 0x21...0x7e.
    public static func isValidNonce(_ text: String) -> Bool {
        withUTF8Pointer(text) { ec_check_nonce($0, $1) } == 0
    }
}

/// The text rule of the evidence string's fields (docs/contract.md §4): no `|` and no control
/// character (C0, DEL, C1, U+2028, U+2029).
public enum EvidenceText {
    public static func isValid(_ text: String) -> Bool {
        withUTF8Pointer(text) { ec_evidence_text_ok($0, $1) } == 0
    }
}

public enum SHA256Digest {
    /// SHA-256 of `bytes`.
    public static func of(_ bytes: [UInt8]) throws -> [UInt8] {
        try bytes.withUnsafeBufferPointer { b in try .filled(count: Int(EC_SHA256_BYTES)) { ec_sha256(b.baseAddress, b.count, $0) } }
    }
}
