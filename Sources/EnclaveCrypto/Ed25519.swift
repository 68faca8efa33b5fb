import CEnclaveCore
import EnclaveContract

/// Signs attestation evidence with an Ed25519 key parsed once. Thread-safe.
public final class ChallengeSigner: @unchecked Sendable {
    // The C signer is immutable after creation (see enclave_core.h). Internal: the attested
    // certificate (AttestedCertificate.swift) is signed with it inside the core.
    let handle: OpaquePointer
    /// The raw 32-byte Ed25519 public key.
    public let publicKey: [UInt8]

    /// `seed` is the 32-byte RFC 8032 private key.
    public init(seed: [UInt8]) throws {
        guard seed.count == Int(EC_ED25519_SEED_BYTES) else { throw EnclaveCryptoError.invalidKeyLength }
        guard let handle = seed.withUnsafeBufferPointer({ ec_ed25519_signer_new($0.baseAddress) }) else {
            throw EnclaveCryptoError.operationFailed
        }
        self.handle = handle
        publicKey = try .filled(count: Int(EC_ED25519_PUBLIC_KEY_BYTES)) { ec_ed25519_signer_public_key(handle, $0) }
    }

    /// A signer with a fresh random key (dev-shim mode).
    public static func generate() throws -> ChallengeSigner {
        var seed = try SecureRandom.bytes(Int(EC_ED25519_SEED_BYTES))
        defer { seed.withUnsafeMutableBytes { ec_wipe($0.baseAddress, $0.count) } }
        return try ChallengeSigner(seed: seed)
    }

    deinit { ec_ed25519_signer_free(handle) }

    /// The 64-byte Ed25519 signature of `message`.
    public func sign(_ message: RawSpan) throws -> [UInt8] {
        try withBytes(message) { m, n in
            try .filled(count: Int(EC_ED25519_SIGNATURE_BYTES)) { ec_ed25519_signer_sign(handle, m, n, $0) }
        }
    }

    public func sign(_ message: [UInt8]) throws -> [UInt8] { try sign(message.span.bytes) }
}

public enum Ed25519 {
    /// True when `signature` is a valid Ed25519 signature of `message` under `publicKey`.
    public static func verify(publicKey: [UInt8], message: RawSpan, signature: [UInt8]) -> Bool {
        guard publicKey.count == Int(EC_ED25519_PUBLIC_KEY_BYTES),
            signature.count == Int(EC_ED25519_SIGNATURE_BYTES)
        else { return false }
        return withBytes(message) { m, n in ec_ed25519_verify(publicKey, m, n, signature) } == 0
    }

    public static func verify(publicKey: [UInt8], message: [UInt8], signature: [UInt8]) -> Bool {
        verify(publicKey: publicKey, message: message.span.bytes, signature: signature)
    }
}

/// The evidence text the challenge's signature covers (docs/contract.md §4).
extension ChallengeEvidenceFields {
    /// The canonical payload `runtime|measurement|...|evidence_issued_at` built by the C core;
    /// throws when a text field holds `|` or a control character.
    public func canonicalPayload() throws -> [UInt8] {
        let capacity = runtime.utf8.count + measurement.utf8.count + challengeNonce.utf8.count
            + operationPurpose.utf8.count + requestID.utf8.count + 3 * 20 + 8
        var length = 0
        var rc: Int32 = -1
        let buffer = [UInt8](unsafeUninitializedCapacity: capacity) { out, initialized in
            rc = withUTF8Pointer(runtime) { r, rl in
                withUTF8Pointer(measurement) { m, ml in
                    withUTF8Pointer(challengeNonce) { c, cl in
                        withUTF8Pointer(operationPurpose) { o, ol in
                            withUTF8Pointer(requestID) { q, ql in
                                out.withMemoryRebound(to: CChar.self) {
                                    ec_challenge_payload(r, rl, m, ml, c, cl, issuedAt, expiresAt, o, ol, q, ql,
                                                         evidenceIssuedAt, $0.baseAddress, $0.count, &length)
                                }
                            }
                        }
                    }
                }
            }
            initialized = rc == 0 ? length : 0
        }
        guard rc == 0 else { throw EnclaveCryptoError.invalidField }
        return buffer
    }
}
