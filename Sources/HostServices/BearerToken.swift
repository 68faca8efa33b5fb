import EnclaveCrypto

/// The api's bearer token, compared so that the time taken says nothing about it, its length
/// included: both sides are reduced to keyed 32-byte BLAKE2b digests (a random key per process)
/// and those are compared in constant time. A plain comparison returns early when the lengths
/// differ, which tells a caller the token's length.
public struct BearerToken: Sendable {
    private let key: [UInt8]
    private let digest: [UInt8]

    public init(_ token: String) throws {
        key = try SecureRandom.bytes(32)
        digest = try BLAKE2b.hash(Array(token.utf8), key: key, outputLength: 32)
    }

    /// Whether an `Authorization` header value is `Bearer <token>`, the scheme in any case.
    public func accepts(authorization: String?) -> Bool {
        guard let authorization, let space = authorization.utf8.firstIndex(of: UInt8(ascii: " ")) else { return false }
        let scheme = authorization.utf8[..<space]
        let credentials = Array(authorization.utf8[authorization.utf8.index(after: space)...])
        let isBearer = scheme.count == 6 && String(decoding: scheme, as: UTF8.self).lowercased() == "bearer"
        guard let presented = try? BLAKE2b.hash(credentials, key: key, outputLength: 32) else { return false }
        return ConstantTime.equals(presented, digest) && isBearer
    }
}
