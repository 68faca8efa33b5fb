import Foundation
import Logging
import Testing

@testable import EnclaveLogging
import TestSupport

/// The hand-rendered access log line must be the JSON that Foundation would have produced.
@Suite struct LogLineTests {
    @Test func rendersSortedValidJSONWithEscapes() throws {
        let awkward = "quote \" backslash \\ newline \n tab \t nul \u{0} del \u{7f} é 🔐 </slash>"
        let line = JSONLogLine.render(
            time: WallClock(seconds: 1_767_225_600, milliseconds: 7), level: .info, message: awkward, label: "enclave-runtime",
            metadata: [
                "status": .stringConvertible(200), "duration_ms": .stringConvertible(0.125), "path": .string("/v1/rpc/ping"),
                "zeta": .array([.string("a"), .stringConvertible(3)]), "nested": .dictionary(["k": .string("v")]),
                "time": .string("metadata must not override the time"),
            ])
        let text = String(decoding: line, as: UTF8.self)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
        #expect(object["message"] as? String == awkward)
        #expect(object["time"] as? String == "2026-01-01T00:00:00.007Z")
        #expect(object["status"] as? Int == 200)
        #expect(object["duration_ms"] as? Double == 0.125)
        #expect(object["level"] as? String == "info")
        #expect(object["logger"] as? String == "enclave-runtime")
        #expect((object["zeta"] as? [Any])?.count == 2)
        #expect((object["nested"] as? [String: String])?["k"] == "v")
        // Keys sorted, one line, "time" written once.
        let keys = ["duration_ms", "level", "logger", "message", "nested", "path", "status", "time", "zeta"]
        let positions = keys.map { text.range(of: "\"\($0)\":")!.lowerBound }
        #expect(positions == positions.sorted())
        #expect(!text.contains("\n"))
        #expect(text.components(separatedBy: "\"time\":").count == 2)
    }

    @Test func fixedFieldsWinAndNumbersKeepTheirType() throws {
        let line = JSONLogLine.render(
            time: WallClock(seconds: 0, milliseconds: 0), level: .warning, message: "m", label: "l",
            metadata: [
                "level": .string("spoofed"), "logger": .string("spoofed"), "message": .string("spoofed"),
                "int": .stringConvertible(-7), "uint8": .stringConvertible(UInt8(255)), "double": .stringConvertible(2.5),
                "infinite": .stringConvertible(Double.infinity), "text": .stringConvertible("7"),
            ])
        let text = String(decoding: line, as: UTF8.self)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
        for name in ["level", "logger", "message", "time"] {
            #expect(text.components(separatedBy: "\"\(name)\":").count == 2, "\(name) appears once")
        }
        #expect(object["level"] as? String == "warning")
        #expect(text.contains(#""int":-7"#) && text.contains(#""uint8":255"#) && text.contains(#""double":2.5"#))
        #expect(object["infinite"] as? String == "inf")
        #expect(object["text"] as? String == "7")
    }
}
