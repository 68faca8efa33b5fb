/// The syntax of the contract's ids, which are accepted in any case on input (docs/contract.md): 36
/// bytes, hyphens at offsets 8, 13, 18 and 23, hex digits of either case everywhere else.
/// Foundation's `UUID(uuidString:)` is no check of that on Linux: it is `sscanf`, which also takes
/// whitespace, signs and `0x` inside the groups (" 6f1c1f2e-...", "...-+a53-..."), and costs about
/// 1 µs per id.
public enum UUIDSyntax {
    public static func isValid(_ text: String) -> Bool {
        guard text.utf8.count == 36 else { return false }
        var offset = 0
        for byte in text.utf8 {
            defer { offset += 1 }
            if offset == 8 || offset == 13 || offset == 18 || offset == 23 {
                guard byte == UInt8(ascii: "-") else { return false }
            } else {
                let isDigit = byte &- UInt8(ascii: "0") < 10
                let isLetter = (byte | 0x20) &- UInt8(ascii: "a") < 6
                guard isDigit || isLetter else { return false }
            }
        }
        return true
    }
}
