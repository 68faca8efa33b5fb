import EnclaveJSON
import Testing

@Suite("JSONReader: strict RFC 8259 reading of request bodies")
struct JSONReaderTests {
    static let accepted: [(String, JSONValue)] = [
        ("{}", .object([:])),
        (" \t\r\n{\"a\" : 1 } \n", .object(["a": .integer(1)])),
        (#"{"a":{"b":[true,false,null,"x",-7]}}"#,
         .object(["a": .object(["b": .array([.bool(true), .bool(false), .null, .string("x"), .integer(-7)])])])),
        (#""\"\\\/\b\f\n\r\t""#, .string("\"\\/\u{08}\u{0C}\n\r\t")),
        (#""\u00e9\u00C9""#, .string("éÉ")),
        (#""\ud83d\ude00""#, .string("😀")),
        ("\"é😀\"", .string("é😀")),
        ("\"del\u{7f}~\"", .string("del\u{7f}~")),  // ASCII to the last byte
        ("\"\\né\"", .string("\né")),  // an escape, then UTF-8
        ("-0", .integer(0)),
        ("9223372036854775807", .integer(Int64.max)),
        ("-9223372036854775808", .integer(Int64.min)),
        ("9223372036854775808", .number),
        ("1.5", .number),
        ("1e3", .number),
        ("-2.5E-3", .number),
        ("[]", .array([])),
    ]

    @Test("Valid JSON texts give their values", arguments: 0..<accepted.count)
    func accepts(_ index: Int) {
        let (text, expected) = Self.accepted[index]
        #expect(JSONValue(parsing: Array(text.utf8)) == expected, "\(text)")
    }

    static let refused: [[UInt8]] = [
        "", " ", "{", "}", "{\"a\":1,}", "{\"a\":1}x", "{\"a\" 1}", "{a:1}", "{'a':1}", "[1,]", "[1 2]",
        "{\"a\":1,\"a\":2}",  // duplicate key
        "\"\\ud800\"", "\"\\ud800x\"", "\"\\udc00\"", "\"\\ud800\\u0041\"",  // surrogates
        "\"a\nb\"", "\"\u{01}\"", "\"\\x\"", "\"\\u12g4\"", "\"\\u12\"", "\"abc",  // strings
        "01", "1.", ".5", "+1", "-", "1e", "1e+", "--1", "0x1",  // numbers
        "nul", "tru", "nulll", "True", "NaN", "Infinity",
    ].map { Array($0.utf8) } + [
        [0x22, 0xFF, 0x22],  // invalid UTF-8
        [0x22, 0xC3, 0x22],  // truncated sequence
        [0x22, 0x61, 0xED, 0xA0, 0x80, 0x22],  // an encoded surrogate after ASCII
        [0x22, 0x5C, 0x6E, 0xFF, 0x22],  // invalid UTF-8 after an escape
        Array("{\"k\":\"".utf8) + [0xC3, 0x28] + Array("\"}".utf8),  // invalid inside an object
        [0xEF, 0xBB, 0xBF] + Array("{}".utf8),  // byte order mark
        Array(String(repeating: "[", count: JSONValue.maxDepth + 2).utf8) + Array(String(repeating: "]", count: JSONValue.maxDepth + 2).utf8),
    ]

    @Test("Anything else is refused", arguments: 0..<refused.count)
    func refuses(_ index: Int) {
        #expect(JSONValue(parsing: Self.refused[index]) == nil, "\(Self.refused[index])")
    }

    @Test("Nesting up to the limit is read")
    func depthLimit() {
        let depth = JSONValue.maxDepth
        let text = String(repeating: "[", count: depth + 1) + String(repeating: "]", count: depth + 1)
        #expect(JSONValue(parsing: Array(text.utf8)) != nil)
    }
}
