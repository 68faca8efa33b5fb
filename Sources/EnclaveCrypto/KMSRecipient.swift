import CEnclaveCore

/// The runtime's key for a KMS release (docs/contract.md §3b): an RSA-2048 pair made in the C core
/// at each start, never written, logged or configured; only its public half leaves the core.
public final class KMSRecipient: @unchecked Sendable {
    // The handle is only read after init; the core's calls on it do not mutate it.
    private let handle: OpaquePointer

    /// Why a CiphertextForRecipient was refused (the core's EC_CMS_ codes).
    public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        public let code: Int32
        public init(code: Int32) { self.code = code }
        public var description: String { String(cString: ec_cms_reason_string(code)) }
    }

    public init() throws {
        guard let handle = ec_kms_recipient_new() else { throw EnclaveCryptoError.operationFailed }
        self.handle = handle
    }

    deinit { ec_kms_recipient_free(handle) }

    /// DER SubjectPublicKeyInfo, for the attestation document's `public_key`.
    public func publicKey() throws -> [UInt8] {
        var length = 0
        _ = ec_kms_recipient_public_key(handle, nil, 0, &length)
        return try .filled(count: length) { out in
            var written = 0
            return ec_kms_recipient_public_key(handle, out, length, &written)
        }
    }

    /// The content of KMS's CiphertextForRecipient, which must be exactly the strict shape; at
    /// most `capacity` bytes of it.
    public func open(_ cms: [UInt8], capacity: Int = 1024) throws(Refusal) -> [UInt8] {
        var reason: Int32 = 0
        var written = 0
        let content = [UInt8](unsafeUninitializedCapacity: capacity) { out, initialized in
            let rc = cms.withUnsafeBufferPointer { c in
                ec_kms_recipient_open(handle, c.baseAddress, c.count, out.baseAddress, capacity, &written, &reason)
            }
            initialized = rc == 0 ? written : 0
        }
        guard reason == EC_CMS_OK else { throw Refusal(code: reason) }
        return content
    }
}
