import EnclaveContract
import Testing

@Suite("Header syntax")
struct HeaderSyntaxTests {
    @Test(arguments: [
        ("0", Int64(0)), ("1767225600", 1_767_225_600), ("0001", 1), ("9223372036854775807", Int64.max),
    ])
    func validTimestamps(text: String, value: Int64) {
        #expect(RPCHeaderSyntax.timestamp(text) == value)
    }

    @Test(arguments: [
        "", "-1", "+1", " 1", "1 ", "1.0", "1e9", "12a", "9223372036854775808", "99999999999999999999", "١٢٣", "0x10",
    ])
    func invalidTimestamps(text: String) {
        #expect(RPCHeaderSyntax.timestamp(text) == nil)
    }

    @Test func signatures() {
        #expect(RPCHeaderSyntax.isValidSignature(String(repeating: "a", count: 32) + String(repeating: "F", count: 16) + String(repeating: "9", count: 16)))
        for bad in ["", String(repeating: "a", count: 63), String(repeating: "a", count: 65), String(repeating: "g", count: 64),
            String(repeating: "a", count: 63) + " ", String(repeating: "a", count: 62) + "é"] {
            #expect(!RPCHeaderSyntax.isValidSignature(bad))
        }
    }

    @Test func nonces() {
        #expect(RPCHeaderSyntax.isValidNonce("a"))
        #expect(RPCHeaderSyntax.isValidNonce(String(repeating: "~", count: 128)))
        #expect(RPCHeaderSyntax.isValidNonce("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"))
        for bad in ["", String(repeating: "a", count: 129), "a b", "a\tb", "é", "a\u{7f}", "a\u{0}"] {
            #expect(!RPCHeaderSyntax.isValidNonce(bad))
        }
    }
}
