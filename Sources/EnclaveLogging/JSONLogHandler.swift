import Foundation
import Logging
import Synchronization

/// One JSON object per line on stderr: time, level, message, then the metadata (request_id, path,
/// status, duration_ms, error_code, ...). Callers put no secret into a message or metadata.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String

    private static let output = Mutex<Void>(())

    public init(label: String, level: Logger.Level) {
        self.label = label
        logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var object: [String: Any] = [
            "time": Self.timestamp(), "level": event.level.rawValue, "message": "\(event.message)", "logger": label,
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            object[key] = Self.plain(value)
        }
        guard var line = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        line.append(0x0a)
        Self.output.withLock { _ in FileHandle.standardError.write(line) }
    }

    private static func plain(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let text): return text
        case .stringConvertible(let convertible):
            if let number = convertible as? any BinaryInteger { return Int(number) }
            if let number = convertible as? Double { return number }
            return convertible.description
        case .array(let values): return values.map(plain)
        case .dictionary(let entries): return entries.mapValues(plain)
        }
    }

    /// One value-type format style for every line (building a formatter per line costs more than
    /// the rest of the log call).
    private static let timeFormat = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    private static func timestamp() -> String {
        timeFormat.format(Date())
    }
}
