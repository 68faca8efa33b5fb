import EnclaveConfiguration
import Foundation
import Testing

@Suite("The local opt-in, defined once per language")
struct LocalOptInTests {
    @Test("SharedSettings.localOptIn is scripts/lib/local-opt-in.env, key for key")
    func swiftAndScriptsAgree() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("scripts/lib/local-opt-in.env"), encoding: .utf8)
        var file: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: "=", maxSplits: 1)
            file[String(parts[0])] = String(parts[1])
        }
        #expect(file == SharedSettings.localOptIn)
        #expect(file["ALFRED_ENV"] == "local", "the opt-in never reaches beyond local")
    }
}
