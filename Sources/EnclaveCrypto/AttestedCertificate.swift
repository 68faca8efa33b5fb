import CEnclaveCore

/// The attested TLS certificate (docs/contract.md §2b), made and read by the C core: self-signed
/// with the evidence key, the document's JSON in its one extension.
public enum AttestedCertificate {
    /// DER, valid from `notBefore` to `notAfter` (Unix seconds).
    public static func make(signer: ChallengeSigner, document: [UInt8], notBefore: Int64, notAfter: Int64) throws -> [UInt8] {
        var length = 0
        _ = document.withUnsafeBufferPointer { ec_attested_certificate(signer.handle, $0.baseAddress, $0.count, notBefore, notAfter, nil, 0, &length) }
        guard length > 0 else { throw EnclaveCryptoError.invalidArgument }
        return try .filled(count: length) { out in
            var written = 0
            return document.withUnsafeBufferPointer {
                ec_attested_certificate(signer.handle, $0.baseAddress, $0.count, notBefore, notAfter, out, length, &written)
            }
        }
    }

    /// The document and the Ed25519 key of a peer's certificate; nil unless it is exactly one
    /// certificate with an Ed25519 key and one document extension.
    public static func read(_ certificate: [UInt8]) -> (document: [UInt8], publicKey: [UInt8])? {
        var size = 0
        var key = [UInt8](repeating: 0, count: Int(EC_ED25519_PUBLIC_KEY_BYTES))
        _ = certificate.withUnsafeBufferPointer { ec_attested_certificate_document($0.baseAddress, $0.count, nil, 0, &size, &key) }
        guard size > 0 else { return nil }
        var document = [UInt8](repeating: 0, count: size)
        let rc = certificate.withUnsafeBufferPointer { c in
            document.withUnsafeMutableBufferPointer { ec_attested_certificate_document(c.baseAddress, c.count, $0.baseAddress, size, &size, &key) }
        }
        return rc == 0 ? (document, key) : nil
    }
}
