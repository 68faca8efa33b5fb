import Foundation

/// Configuration variables from the process environment and, where one exists, a `.env` file
/// (real environment variables win). A variable set to the empty string, or only blanks, counts as
/// unset; values are trimmed of surrounding blanks.
public struct EnvironmentSource: Sendable {
    private let values: [String: String]

    public init(_ values: [String: String]) {
        self.values = values
    }

    /// The real environment layered over the `.env` file at `dotEnvPath`, when it exists.
    public static func process(dotEnvPath: String = ".env") -> EnvironmentSource {
        var merged: [String: String] = [:]
        if let data = FileManager.default.contents(atPath: dotEnvPath) {
            merged = parseDotEnv(String(decoding: data, as: UTF8.self))
        }
        merged.merge(ProcessInfo.processInfo.environment) { _, real in real }
        return EnvironmentSource(merged)
    }

    /// `KEY=VALUE` lines; `#` comments, blank lines and an `export ` prefix are allowed, and a
    /// value wrapped in matching single or double quotes is unwrapped.
    public static func parseDotEnv(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for rawLine in text.split(whereSeparator: \.isNewline) {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)) }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            result[key] = value
        }
        return result
    }

    /// The trimmed value, or nil when unset or blank.
    public func string(_ key: String) -> String? {
        guard let raw = values[key] else { return nil }
        let trimmed = raw.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? nil : trimmed
    }

    public func string(_ key: String, default value: String) -> String { string(key) ?? value }

    /// `true/false/1/0/yes/no/on/off` in any case.
    public func bool(_ key: String, default value: Bool) throws(ConfigurationError) -> Bool {
        guard let text = string(key) else { return value }
        switch text.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw ConfigurationError(key, "must be a boolean (true/false/1/0/yes/no/on/off)")
        }
    }

    /// A decimal integer within `range`.
    public func int(_ key: String, default value: Int, in range: ClosedRange<Int>, rule: String) throws(ConfigurationError) -> Int {
        guard let text = string(key) else { return value }
        guard let number = Int(text), range.contains(number) else { throw ConfigurationError(key, rule) }
        return number
    }

    /// Comma-separated, blanks trimmed, empty entries dropped.
    public func list(_ key: String, default value: [String]) -> [String] {
        guard let text = string(key) else { return value }
        return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Standard base64 decoding to exactly `count` bytes.
    public func base64Bytes(_ key: String, count: Int, what: String) throws(ConfigurationError) -> [UInt8]? {
        guard let text = string(key) else { return nil }
        guard let data = Data(base64Encoded: text), data.count == count else {
            throw ConfigurationError(key, "must be base64 of \(what)")
        }
        return [UInt8](data)
    }
}
