import Foundation

/// Reads the published vectors copied into Tests/Vectors (provenance in PROVENANCE.md there).
enum Vectors {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Vectors")

    static func json(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: directory.appendingPathComponent(name))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    /// Every test of every group of a Wycheproof file, with its group beside it.
    static func wycheproof(_ name: String) throws -> [(group: [String: Any], test: [String: Any])] {
        let groups = try json(name)["testGroups"] as! [[String: Any]]
        return groups.flatMap { group in (group["tests"] as! [[String: Any]]).map { (group, $0) } }
    }

    struct BLAKE2bCase { let input: [UInt8], key: [UInt8], hash: [UInt8] }

    static func blake2bKAT() throws -> [BLAKE2bCase] {
        let text = try String(contentsOf: directory.appendingPathComponent("blake2b-kat.txt"), encoding: .utf8)
        var fields: [String: [UInt8]] = [:]
        var cases: [BLAKE2bCase] = []
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count >= 1 else { continue }
            let name = parts[0].trimmingCharacters(in: .whitespaces)
            let value = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
            fields[name] = hex(value)
            if name == "hash" {
                cases.append(BLAKE2bCase(input: fields["in"] ?? [], key: fields["key"]!, hash: fields["hash"]!))
                fields = [:]
            }
        }
        return cases
    }
}

func hex(_ text: String) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(text.utf8.count / 2)
    var index = text.startIndex
    while index < text.endIndex {
        let next = text.index(index, offsetBy: 2)
        bytes.append(UInt8(text[index..<next], radix: 16)!)
        index = next
    }
    return bytes
}

func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}

/// The canonical message splits at its first four zero bytes into METHOD, PATH, TS, NONCE, BODY;
/// nil when it has fewer than four.
func canonicalSplit(_ message: [UInt8]) -> (method: String, path: String, ts: String, nonce: String, body: [UInt8])? {
    let parts = message.split(separator: 0, maxSplits: 4, omittingEmptySubsequences: false)
    guard parts.count == 5 else { return nil }
    // Only parts that are valid UTF-8 can travel as Swift strings (header values are ASCII).
    let texts = parts[0..<4].compactMap { String(validating: $0, as: UTF8.self) }
    guard texts.count == 4 else { return nil }
    return (texts[0], texts[1], texts[2], texts[3], Array(parts[4]))
}
