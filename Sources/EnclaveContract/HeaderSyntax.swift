/// The syntax of the signed-RPC headers (docs/contract.md §2, step 2). The C core has the same
/// rules for the bindings (`ec_parse_timestamp`, `ec_check_nonce`, tested in
/// `CSources/tests/core_test.c` with the cases of `HeaderSyntaxTests`).
public enum RPCHeaderSyntax {
    public static let maxTimestampDigits = 19
    public static let maxNonceBytes = 128

    /// The value of `x-alfred-rpc-ts`: 1 to 19 ASCII digits within Int64, else nil.
    public static func timestamp(_ text: String) -> Int64? {
        let utf8 = text.utf8
        guard !utf8.isEmpty, utf8.count <= maxTimestampDigits else { return nil }
        // 19 digits fit in UInt64, so only the final Int64 bound needs checking.
        var value: UInt64 = 0
        for byte in utf8 {
            let digit = byte &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            value = value &* 10 &+ UInt64(digit)
        }
        return value <= UInt64(Int64.max) ? Int64(value) : nil
    }

    /// Whether `text` is a valid `x-alfred-rpc-nonce`: 1 to 128 bytes of 0x21...0x7e.
    public static func isValidNonce(_ text: String) -> Bool {
        let utf8 = text.utf8
        guard !utf8.isEmpty, utf8.count <= maxNonceBytes else { return false }
        return utf8.allSatisfy { $0 &- 0x21 < 0x5e }
    }

    /// Whether `text` is a valid `x-alfred-rpc-signature`: 64 hex digits, either case. Without
    /// branches per byte: digits and letters of a signature alternate at random, so a branch on
    /// each byte is mispredicted about every other byte.
    public static func isValidSignature(_ text: String) -> Bool {
        guard text.utf8.count == 64 else { return false }
        var text = text
        return text.withUTF8 { bytes in
            var allHex: UInt8 = 1
            for byte in bytes {
                let digit: UInt8 = byte &- 0x30 < 10 ? 1 : 0
                let letter: UInt8 = (byte | 0x20) &- 0x61 < 6 ? 1 : 0
                allHex &= digit | letter
            }
            return allHex == 1
        }
    }
}
