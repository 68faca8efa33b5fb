import CEnclaveCore

/// Why the C core refused a Nitro attestation document or a PCR policy (its `EC_NITRO_` reasons).
public struct NitroError: Error, Hashable, Sendable, CustomStringConvertible {
    public let reason: Int32

    init(_ reason: Int32) { self.reason = reason }

    public var description: String { String(cString: ec_nitro_error_string(reason)) }

    public static let certificateExpired = Self(Int32(EC_NITRO_CERT_EXPIRED))
    public static let signatureInvalid = Self(Int32(EC_NITRO_SIGNATURE_INVALID))
    public static let chainInvalid = Self(Int32(EC_NITRO_CHAIN_INVALID))
    public static let rootMismatch = Self(Int32(EC_NITRO_ROOT_MISMATCH))
    public static let stale = Self(Int32(EC_NITRO_STALE))
    public static let future = Self(Int32(EC_NITRO_FUTURE))
    public static let policyMalformed = Self(Int32(EC_NITRO_POLICY_MALFORMED))
    public static let policyEmpty = Self(Int32(EC_NITRO_POLICY_EMPTY))
    public static let pcrsNotAllowed = Self(Int32(EC_NITRO_PCRS_NOT_ALLOWED))
    public static let debugEnclave = Self(Int32(EC_NITRO_DEBUG_ENCLAVE))
    public static let missingField = Self(Int32(EC_NITRO_MISSING_FIELD))
}

/// The fields of an AWS Nitro attestation document (docs/contract.md §3a), copied out of the
/// document. Optional fields are nil when absent or CBOR null.
public struct NitroAttestationDocument: Sendable, Equatable {
    public let moduleID: String
    public let digest: String
    public let timestampMilliseconds: Int64
    /// PCR index to value (32, 48 or 64 bytes).
    public let pcrs: [Int: [UInt8]]
    public let certificate: [UInt8]
    public let cabundle: [[UInt8]]
    public let publicKey: [UInt8]?
    public let userData: [UInt8]?
    public let nonce: [UInt8]?

    /// Verifies `bytes` at `milliseconds` (Unix time) with `verifier`'s pinned root and its cache
    /// of verified certificate links: structure, chain, leaf, ES384 signature.
    public init(verifying bytes: [UInt8], at milliseconds: Int64, with verifier: NitroVerifier) throws(NitroError) {
        var document = ec_nitro_document()
        var reason: Int32 = 0
        let rc = bytes.withUnsafeBufferPointer { ec_nitro_verifier_verify(verifier.handle, $0.baseAddress, $0.count, milliseconds, &document, &reason) }
        guard rc == 0 else { throw NitroError(reason) }
        self.init(document)
    }

    /// The same verification without a cache: every link of the chain is verified again.
    public init(verifying bytes: [UInt8], at milliseconds: Int64, rootDER: [UInt8]) throws(NitroError) {
        var document = ec_nitro_document()
        var reason: Int32 = 0
        let rc = bytes.withUnsafeBufferPointer { doc in
            rootDER.withUnsafeBufferPointer { ec_nitro_verify(doc.baseAddress, doc.count, $0.baseAddress, $0.count, milliseconds, &document, &reason) }
        }
        guard rc == 0 else { throw NitroError(reason) }
        self.init(document)
    }

    /// The structure alone: the shape rules of section 3a, no cryptography (a runtime reads its
    /// own NSM's document this way).
    public init(parsing bytes: [UInt8]) throws(NitroError) {
        var document = ec_nitro_document()
        var reason: Int32 = 0
        let rc = bytes.withUnsafeBufferPointer { ec_nitro_parse($0.baseAddress, $0.count, &document, &reason) }
        guard rc == 0 else { throw NitroError(reason) }
        self.init(document)
    }

    /// Copies the views out while the document's bytes are still alive (the caller's closure).
    private init(_ d: ec_nitro_document) {
        func bytes(_ view: ec_view) -> [UInt8]? {
            guard let data = view.data else { return nil }
            return Array(UnsafeBufferPointer(start: data, count: view.len))
        }
        moduleID = String(decoding: bytes(d.module_id) ?? [], as: UTF8.self)
        digest = String(decoding: bytes(d.digest) ?? [], as: UTF8.self)
        timestampMilliseconds = Int64(d.timestamp_ms)
        var pcrs: [Int: [UInt8]] = [:]
        withUnsafeBytes(of: d.pcrs) { raw in
            let views = raw.bindMemory(to: ec_view.self)
            for index in 0..<Int(EC_NITRO_MAX_PCRS) where d.pcr_present & (1 << UInt32(index)) != 0 {
                pcrs[index] = bytes(views[index])
            }
        }
        self.pcrs = pcrs
        certificate = bytes(d.certificate) ?? []
        cabundle = withUnsafeBytes(of: d.cabundle) { raw in
            raw.bindMemory(to: ec_view.self).prefix(d.cabundle_count).map { bytes($0) ?? [] }
        }
        publicKey = bytes(d.public_key)
        userData = bytes(d.user_data)
        nonce = bytes(d.nonce)
    }

    /// Its timestamp is at most `maxAge` before `milliseconds` and at most `maxFuture` after it.
    public func checkTime(at milliseconds: Int64, maxAgeMilliseconds: Int64, maxFutureMilliseconds: Int64) throws(NitroError) {
        guard timestampMilliseconds >= 0 else { throw NitroError.stale }
        if timestampMilliseconds < milliseconds && milliseconds - timestampMilliseconds > maxAgeMilliseconds { throw NitroError.stale }
        if timestampMilliseconds > milliseconds && timestampMilliseconds - milliseconds > maxFutureMilliseconds { throw NitroError.future }
    }

    /// PCR0 as lowercase hex: the enclave image's measurement.
    public var measurement: String { (pcrs[0] ?? []).map { String($0, radix: 16).leftPadded(2) }.joined() }
}

/// A TEE_ALLOWED_PCRS policy: sets separated by `;`, each a comma-separated list of INDEX=HEX;
/// a document is allowed when some set holds entirely. Checked well-formed and non-empty at
/// creation (the configuration's check).
public struct NitroPCRPolicy: Sendable, Equatable {
    public let text: String

    public init(_ text: String) throws(NitroError) {
        var reason: Int32 = 0
        guard withUTF8Pointer(text, { ec_nitro_policy_check($0, $1, &reason) }) == 0 else { throw NitroError(reason) }
        self.text = text
    }

    /// Whether `pcrs` satisfy the policy: some set's every PCR present and equal, and PCR0 not all
    /// zero (a debug enclave) unless `allowDebug`. Throws why not.
    public func check(_ pcrs: [Int: [UInt8]], allowDebug: Bool) throws(NitroError) {
        // The PCRs side by side in one buffer, and views into it.
        let indexes = pcrs.keys.filter { (0..<Int(EC_NITRO_MAX_PCRS)).contains($0) }.sorted()
        let joined = indexes.flatMap { pcrs[$0]! }
        var reason: Int32 = 0
        let rc = joined.withUnsafeBufferPointer { buffer -> Int32 in
            var document = ec_nitro_document()
            var offset = 0
            withUnsafeMutableBytes(of: &document.pcrs) { raw in
                let views = raw.bindMemory(to: ec_view.self)
                for index in indexes {
                    let count = pcrs[index]!.count
                    views[index] = ec_view(data: buffer.baseAddress.map { $0 + offset }, len: count)
                    offset += count
                }
            }
            for index in indexes { document.pcr_present |= 1 << UInt32(index) }
            return withUTF8Pointer(text) { ec_nitro_pcrs_match(&document, $0, $1, allowDebug ? 1 : 0, &reason) }
        }
        guard rc == 0 else { throw NitroError(reason) }
    }
}

/// Verifies Nitro documents against one pinned root, remembering verified certificate links so a
/// known chain costs the COSE signature alone. Thread-safe (the C core locks its cache).
public final class NitroVerifier: @unchecked Sendable {
    let handle: OpaquePointer

    /// The AWS Nitro Enclaves Root-G1 certificate (DER), built into the C core.
    public static var awsRootDER: [UInt8] {
        var length = 0
        guard let root = ec_nitro_aws_root_der(&length) else { return [] }
        return Array(UnsafeBufferPointer(start: root, count: length))
    }

    public init(rootDER: [UInt8] = NitroVerifier.awsRootDER) throws(NitroError) {
        guard let handle = rootDER.withUnsafeBufferPointer({ ec_nitro_verifier_new($0.baseAddress, $0.count) }) else {
            throw NitroError(Int32(EC_NITRO_BAD_ROOT))
        }
        self.handle = handle
    }

    deinit { ec_nitro_verifier_free(handle) }

    /// Certificate links the cache vouches for (each from a document that verified in full).
    public var cachedLinks: Int { ec_nitro_verifier_cached_links(handle) }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
