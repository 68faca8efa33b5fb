import CEnclaveCore

/// The C core's view of the signed parts: method, path, timestamp, nonce, body, each (pointer, length).
typealias CanonicalPartsCall<R> = (
    UnsafePointer<CChar>?, Int, UnsafePointer<CChar>?, Int, UnsafePointer<CChar>?, Int,
    UnsafePointer<CChar>?, Int, UnsafePointer<UInt8>?, Int
) -> R

/// Calls the C core with the signed parts of a request (docs/contract.md §2,
/// METHOD \0 PATH \0 TS \0 NONCE \0 BODY) as (pointer, length) pairs.
@inline(__always)
func withCanonicalParts<R>(
    _ method: RawSpan, _ path: RawSpan, _ timestamp: RawSpan, _ nonce: RawSpan, _ body: RawSpan,
    _ call: CanonicalPartsCall<R>
) -> R {
    withChars(method) { m, ml in
        withChars(path) { p, pl in
            withChars(timestamp) { t, tl in
                withChars(nonce) { n, nl in
                    withBytes(body) { b, bl in call(m, ml, p, pl, t, tl, n, nl, b, bl) }
                }
            }
        }
    }
}

/// `withCanonicalParts` for text parts, through their UTF-8 bytes.
@inline(__always)
func withCanonicalParts<R>(
    _ method: String, _ path: String, _ timestamp: String, _ nonce: String, _ body: RawSpan,
    _ call: CanonicalPartsCall<R>
) -> R {
    withCanonicalParts(method.utf8.span.bytes, path.utf8.span.bytes, timestamp.utf8.span.bytes, nonce.utf8.span.bytes, body, call)
}

/// Signs requests with the shared secret; the HMAC key schedule is done once. Thread-safe.
public final class RPCSigner: @unchecked Sendable {
    // The C signer is immutable after creation (see enclave_core.h).
    private let handle: OpaquePointer

    /// `secret` is the shared secret's UTF-8 bytes; an empty secret is refused.
    public init(secret: [UInt8]) throws {
        guard let handle = secret.withUnsafeBufferPointer({ ec_rpc_signer_new($0.baseAddress, $0.count) }) else {
            throw EnclaveCryptoError.invalidArgument
        }
        self.handle = handle
    }

    public convenience init(secret: String) throws { try self.init(secret: Array(secret.utf8)) }

    deinit { ec_rpc_signer_free(handle) }

    /// The lowercase hex value of `x-alfred-rpc-signature` for a request.
    public func signature(
        method: String = "POST", path: String, timestamp: String, nonce: String, body: RawSpan
    ) -> String {
        String(unsafeUninitializedCapacity: Int(EC_RPC_SIG_HEX_BYTES) + 1) { out in
            let rc = withCanonicalParts(method, path, timestamp, nonce, body) { m, ml, p, pl, t, tl, n, nl, b, bl in
                out.withMemoryRebound(to: CChar.self) {
                    ec_rpc_signer_sign_hex(handle, m, ml, p, pl, t, tl, n, nl, b, bl, $0.baseAddress)
                }
            }
            // Fails only for NULL with a non-zero length, which Swift buffers never produce.
            precondition(rc == 0, "ec_rpc_signer_sign_hex failed")
            return Int(EC_RPC_SIG_HEX_BYTES)
        }
    }

    public func signature(method: String = "POST", path: String, timestamp: String, nonce: String, body: [UInt8]) -> String {
        signature(method: method, path: path, timestamp: timestamp, nonce: nonce, body: body.span.bytes)
    }

    /// The same 64 hex digits for parts held as bytes, with no String built or allocated: the load
    /// generator signs every request it sends on cores it shares with the server it measures.
    public func signatureHex(method: RawSpan, path: RawSpan, timestamp: RawSpan, nonce: RawSpan, body: RawSpan) -> InlineArray<64, UInt8> {
        var hex = InlineArray<65, UInt8>(repeating: 0)  // the C core writes a terminating NUL
        var output = hex.mutableSpan
        let rc = withCanonicalParts(method, path, timestamp, nonce, body) { m, ml, p, pl, t, tl, n, nl, b, bl in
            output.withUnsafeMutableBufferPointer { out in
                out.withMemoryRebound(to: CChar.self) {
                    ec_rpc_signer_sign_hex(handle, m, ml, p, pl, t, tl, n, nl, b, bl, $0.baseAddress)
                }
            }
        }
        precondition(rc == 0, "ec_rpc_signer_sign_hex failed")
        return InlineArray { hex[$0] }
    }

    /// Whether `responseSignature` is the enclave's `x-alfred-rpc-response-signature` of an answer
    /// (`status`, exact `body`) to the request signed `requestSignature` (docs/contract.md §2a).
    /// Constant-time; false for any malformed value.
    public func verifiesResponse(requestSignature: String, status: Int, body: RawSpan, responseSignature: String) -> Bool {
        withUTF8Pointer(requestSignature) { r, rl in
            withBytes(body) { b, bl in
                withUTF8Pointer(responseSignature) { s, sl in
                    ec_rpc_signer_verify_response(handle, r, rl, Int32(clamping: status), b, bl, s, sl)
                }
            }
        } == 0
    }

    public func verifiesResponse(requestSignature: String, status: Int, body: [UInt8], responseSignature: String) -> Bool {
        verifiesResponse(requestSignature: requestSignature, status: status, body: body.span.bytes, responseSignature: responseSignature)
    }

    /// The response signature under this signer's key, for stand-ins and tests that hold the secret.
    public func responseSignature(requestSignature: String, status: Int, body: [UInt8]) throws -> String {
        try signResponseHex { out in
            withUTF8Pointer(requestSignature) { r, rl in
                body.withUnsafeBufferPointer { b in
                    ec_rpc_signer_sign_response_hex(handle, r, rl, Int32(clamping: status), b.baseAddress, b.count, out)
                }
            }
        }
    }
}

/// Writes a response signature's 64 hex digits (the C core adds a NUL) into a String.
@inline(__always)
func signResponseHex(_ sign: (UnsafeMutablePointer<CChar>) -> Int32) throws -> String {
    var rc: Int32 = -1
    let hex = String(unsafeUninitializedCapacity: Int(EC_RPC_SIG_HEX_BYTES) + 1) { out in
        rc = out.withMemoryRebound(to: CChar.self) { sign($0.baseAddress!) }
        return rc == 0 ? Int(EC_RPC_SIG_HEX_BYTES) : 0
    }
    guard rc == 0 else { throw EnclaveCryptoError.invalidArgument }
    return hex
}

/// The outcome of checking a request signature.
public enum RPCSignatureCheck: Sendable, Equatable {
    /// Signed with the current shared secret.
    case current
    /// Signed with the previous shared secret (key rotation).
    case previous
    /// Malformed or signed with neither.
    case invalid

    /// The C core's key index: 0 current, 1 previous.
    var keyIndex: Int32 { self == .previous ? 1 : 0 }
}

/// Verifies request signatures against the current and, during rotation, the previous secret.
/// The key schedules are done once; verification allocates nothing. Thread-safe.
public final class RPCVerifier: @unchecked Sendable {
    // The C verifier is immutable after creation (see enclave_core.h).
    private let handle: OpaquePointer

    /// Empty secrets are refused; "no previous secret" is nil only.
    public init(secret: [UInt8], previousSecret: [UInt8]? = nil) throws {
        guard !secret.isEmpty, previousSecret.map({ !$0.isEmpty }) ?? true else { throw EnclaveCryptoError.invalidKeyLength }
        let handle = secret.withUnsafeBufferPointer { current in
            if let previousSecret {
                return previousSecret.withUnsafeBufferPointer { previous in
                    ec_rpc_verifier_new(current.baseAddress, current.count, previous.baseAddress, previous.count)
                }
            }
            return ec_rpc_verifier_new(current.baseAddress, current.count, nil, 0)
        }
        guard let handle else { throw EnclaveCryptoError.invalidArgument }
        self.handle = handle
    }

    public convenience init(secret: String, previousSecret: String? = nil) throws {
        try self.init(secret: Array(secret.utf8), previousSecret: previousSecret.map { Array($0.utf8) })
    }

    deinit { ec_rpc_verifier_free(handle) }

    /// Checks `signatureHex` (64 hex digits, either case) in constant time.
    public func check(
        method: String = "POST", path: String, timestamp: String, nonce: String, body: RawSpan, signatureHex: String
    ) -> RPCSignatureCheck {
        let rc = withCanonicalParts(method, path, timestamp, nonce, body) { m, ml, p, pl, t, tl, n, nl, b, bl in
            withUTF8Pointer(signatureHex) { s, sl in
                ec_rpc_verify(handle, m, ml, p, pl, t, tl, n, nl, b, bl, s, sl)
            }
        }
        switch rc {
        case 0: return .current
        case 1: return .previous
        default: return .invalid
        }
    }

    public func check(
        method: String = "POST", path: String, timestamp: String, nonce: String, body: [UInt8], signatureHex: String
    ) -> RPCSignatureCheck {
        check(method: method, path: path, timestamp: timestamp, nonce: nonce, body: body.span.bytes, signatureHex: signatureHex)
    }

    /// `x-alfred-rpc-response-signature` of an answer (docs/contract.md §2a), under the secret
    /// that verified the request (`verifiedBy`, `.current` or `.previous`).
    public func responseSignature(verifiedBy key: RPCSignatureCheck, requestSignature: String, status: Int, body: RawSpan) throws -> String {
        guard key != .invalid else { throw EnclaveCryptoError.invalidArgument }
        return try signResponseHex { out in
            withUTF8Pointer(requestSignature) { r, rl in
                withBytes(body) { b, bl in
                    ec_rpc_verifier_sign_response_hex(handle, key.keyIndex, r, rl, Int32(clamping: status), b, bl, out)
                }
            }
        }
    }
}

/// The message the ping answer's Ed25519 `binding` signs (docs/contract.md §2a):
/// "v1-ping" \0 REQUEST_ID \0 REQUEST_SIGNATURE, the signature in lowercase hex.
public enum PingBinding {
    public static func message(requestID: String, requestSignature: String) throws -> [UInt8] {
        let capacity = ec_ping_binding_overhead_bytes() + requestID.utf8.count
        var length = 0
        var rc: Int32 = -1
        let message = [UInt8](unsafeUninitializedCapacity: capacity) { out, initialized in
            rc = withUTF8Pointer(requestID) { i, il in
                withUTF8Pointer(requestSignature) { s, sl in ec_ping_binding_payload(i, il, s, sl, out.baseAddress, capacity, &length) }
            }
            initialized = rc == 0 ? length : 0
        }
        guard rc == 0 else { throw EnclaveCryptoError.invalidArgument }
        return message
    }
}

/// HMAC-SHA256, for tests and tools that need the raw MAC.
public enum HMACSHA256 {
    public static func mac(key: [UInt8], message: [UInt8]) throws -> [UInt8] {
        try key.withUnsafeBufferPointer { k in
            try message.withUnsafeBufferPointer { m in
                try [UInt8].filled(count: Int(EC_RPC_MAC_BYTES)) {
                    ec_hmac_sha256(k.baseAddress, k.count, m.baseAddress, m.count, $0)
                }
            }
        }
    }
}
