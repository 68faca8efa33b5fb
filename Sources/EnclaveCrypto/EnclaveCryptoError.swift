/// An error from the crypto core. It names what failed, never a key or an input.
public struct EnclaveCryptoError: Error, Hashable, Sendable, CustomStringConvertible {
    enum Code: String, Sendable {
        case invalidKeyLength = "invalid key length"
        case invalidArgument = "invalid argument"
        case invalidField = "a field holds '|' or a control character"
        case randomUnavailable = "the random source failed"
        case operationFailed = "the crypto operation failed"
        case openFailed = "the sealed data did not open"
        case processProtectionFailed = "core files or process dumping could not be turned off"
    }

    let code: Code

    public var description: String { "EnclaveCryptoError: \(code.rawValue)" }

    public static let invalidKeyLength = Self(code: .invalidKeyLength)
    public static let invalidArgument = Self(code: .invalidArgument)
    public static let invalidField = Self(code: .invalidField)
    public static let randomUnavailable = Self(code: .randomUnavailable)
    public static let operationFailed = Self(code: .operationFailed)
    public static let openFailed = Self(code: .openFailed)
    public static let processProtectionFailed = Self(code: .processProtectionFailed)
}
