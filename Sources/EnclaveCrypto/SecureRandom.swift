import CEnclaveCore

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
