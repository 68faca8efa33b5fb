import CEnclaveCore

/// Why the Nitro Secure Module gave no document (the C core's `EC_NSM_` reasons).
public struct NSMError: Error, Hashable, Sendable, CustomStringConvertible {
    public let reason: Int32
    public var description: String { String(cString: ec_nsm_error_string(reason)) }
    /// The device or socket could not be opened, or the exchange failed: nothing answered.
    public var isUnreachable: Bool { reason == Int32(EC_NSM_UNREACHABLE) || reason == Int32(EC_NSM_IO) }
}

/// The C core's NSM client (docs/contract.md §3a). `device` is `/dev/nsm` inside a Nitro
/// Enclave, or `unix:PATH` for a local simulator.
public enum NSMClient {
    /// An attestation document vouching for `publicKey` and `userData`, no nonce. Blocks for the
    /// exchange: call it off the request path.
    public static func attest(device: String, publicKey: [UInt8], userData: [UInt8]) throws(NSMError) -> [UInt8] {
        let capacity = 0x3000
        var length = 0
        var reason: Int32 = 0
        let document = [UInt8](unsafeUninitializedCapacity: capacity) { out, initialized in
            let rc = device.withCString { path in
                publicKey.withUnsafeBufferPointer { key in
                    userData.withUnsafeBufferPointer { data in
                        ec_nsm_attest(path, key.baseAddress, key.count, data.baseAddress, data.count, out.baseAddress, capacity, &length, &reason)
                    }
                }
            }
            initialized = rc == 0 ? length : 0
        }
        guard reason == 0, !document.isEmpty else { throw NSMError(reason: reason == 0 ? Int32(EC_NSM_BAD_RESPONSE) : reason) }
        return document
    }
}
