/// Writes JSON text straight into a byte array: the response bodies and log lines of the hot
/// path, where Foundation's `JSONEncoder` (boxing, key conversion, a `Data` copy) cost more than
/// the rest of a signed ping. Strings follow RFC 8259: `"` and `\` escaped, control characters
/// and DEL as short escapes or `\u00XX`, everything else (UTF-8 included) as is. Objects are
/// written field by field, so key order is the caller's.
public struct JSONWriter: ~Copyable {
    public private(set) var bytes: [UInt8] = []
    private var needsComma = false

    public init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    public mutating func beginObject() {
        separator()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    public mutating func beginArray() {
        separator()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// The key of the next value in an object.
    public mutating func key(_ name: String) {
        separator()
        appendEscaped(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func string(_ value: String) {
        separator()
        appendEscaped(value)
        needsComma = true
    }

    public mutating func integer(_ value: Int) {
        separator()
        bytes.append(contentsOf: String(value).utf8)
        needsComma = true
    }

    public mutating func integer(_ value: some BinaryInteger) {
        separator()
        bytes.append(contentsOf: String(value).utf8)
        needsComma = true
    }

    /// A finite double in Swift's shortest round-trip form (non-finite values are written as null).
    public mutating func double(_ value: Double) {
        separator()
        if value.isFinite { bytes.append(contentsOf: String(value).utf8) } else { bytes.append(contentsOf: "null".utf8) }
        needsComma = true
    }

    public mutating func bool(_ value: Bool) {
        separator()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
        needsComma = true
    }

    public mutating func null() {
        separator()
        bytes.append(contentsOf: "null".utf8)
        needsComma = true
    }

    /// A JSON string of `value` in standard base64 with padding (RFC 4648 section 4).
    public mutating func base64(_ value: [UInt8]) {
        separator()
        bytes.append(UInt8(ascii: "\""))
        var index = 0
        while index < value.count {
            let chunk = min(3, value.count - index)
            let b0 = UInt32(value[index])
            let b1 = chunk > 1 ? UInt32(value[index + 1]) : 0
            let b2 = chunk > 2 ? UInt32(value[index + 2]) : 0
            let triple = b0 << 16 | b1 << 8 | b2
            for position in 0..<4 {
                if position <= chunk {
                    bytes.append(Self.base64Digits[Int(triple >> UInt32(18 - 6 * position) & 0x3f)])
                } else {
                    bytes.append(UInt8(ascii: "="))
                }
            }
            index += 3
        }
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    private static let base64Digits = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Writes a value that is already JSON text (a quoted time stamp, a pre-rendered object).
    public mutating func raw(_ json: some Sequence<UInt8>) {
        separator()
        bytes.append(contentsOf: json)
        needsComma = true
    }

    /// `raw` for bytes already in memory, without the generic path (which other modules call
    /// unspecialized).
    public mutating func raw(_ json: Span<UInt8>) {
        separator()
        json.withUnsafeBufferPointer { bytes.append(contentsOf: $0) }
        needsComma = true
    }

    /// The finished text.
    public consuming func finish() -> [UInt8] { bytes }

    private mutating func separator() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == 0x7f
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private mutating func appendEscaped(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        // Nearly every string needs no escape: copy it whole (byte by byte cost more than the
        // rest of an access log line).
        let copied = text.utf8.withContiguousStorageIfAvailable { utf8 in
            guard !utf8.contains(where: Self.needsEscape) else { return false }
            bytes.append(contentsOf: utf8)
            return true
        }
        if copied == true {
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(0x5c); bytes.append(0x22)
            case UInt8(ascii: "\\"): bytes.append(0x5c); bytes.append(0x5c)
            case 0x0a: bytes.append(0x5c); bytes.append(UInt8(ascii: "n"))
            case 0x0d: bytes.append(0x5c); bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(0x5c); bytes.append(UInt8(ascii: "t"))
            case 0..<0x20, 0x7f:
                bytes.append(contentsOf: [0x5c, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                bytes.append(Self.hexDigits[Int(byte >> 4)])
                bytes.append(Self.hexDigits[Int(byte & 0xf)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
