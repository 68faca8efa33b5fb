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
