import EnclaveJSON
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One JSON object per line on stderr: time, level, message, then the metadata (request_id, path,
/// status, duration_ms, error_code, ...). Callers put no secret into a message or metadata.
/// Every request writes an access line, so the line is rendered by hand (`JSONLogLine`) and
/// written with one `write(2)`: Foundation's serializer and date formatter cost more than the
/// request itself.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let descriptor: Int32

    private static let output = Mutex<Void>(())

    /// `descriptor` is where lines go: stderr, or another file for benchmarks.
    public init(label: String, level: Logger.Level, descriptor: Int32 = 2) {
        self.label = label
        logLevel = level
        self.descriptor = descriptor
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.isEmpty ? (event.metadata ?? [:]) : metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 })
        var line = JSONLogLine.render(
            time: WallClock.now(), level: event.level, message: "\(event.message)", label: label, metadata: merged)
        line.append(0x0a)
        Self.output.withLock { _ in
            line.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                    if written > 0 {
                        offset += written
                    } else if written < 0 && errno == EINTR {
                        continue
                    } else {
                        return  // stderr is gone; logging must never stop the server
                    }
                }
            }
        }
    }
}

/// Wall-clock time as Unix seconds and milliseconds.
struct WallClock {
    var seconds: Int
    var milliseconds: Int

    static func now() -> WallClock {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return WallClock(seconds: spec.tv_sec, milliseconds: spec.tv_nsec / 1_000_000)
    }
}

/// Renders one log line: a JSON object with sorted keys, integers as numbers, and `time` in
/// ISO 8601 UTC with milliseconds.
enum JSONLogLine {
    static func render(time: WallClock, level: Logger.Level, message: String, label: String, metadata: Logger.Metadata) -> [UInt8] {
        // The fixed fields win over metadata of the same name, so every key appears once.
        var fields: [(String, Logger.Metadata.Value?)] = []
        fields.reserveCapacity(metadata.count + 4)
        for (name, value) in metadata where !isFixedName(name) { fields.append((name, value)) }
        fields.append(("level", .string(level.rawValue)))
        fields.append(("logger", .string(label)))
        fields.append(("message", .string(message)))
        fields.append(("time", nil))
        fields.sort { $0.0 < $1.0 }
        var writer = JSONWriter()
        writer.beginObject()
        for (name, value) in fields {
            writer.key(name)
            if let value { write(value, to: &writer) } else { writer.raw(timestamp(time)) }
        }
        writer.endObject()
        return writer.finish()
    }

    private static func isFixedName(_ name: String) -> Bool {
        switch name {
        case "level", "logger", "message", "time": true
        default: false
        }
    }

    private static func write(_ value: Logger.Metadata.Value, to writer: inout JSONWriter) {
        switch value {
        case .string(let text):
            writer.string(text)
        case .stringConvertible(let convertible):
            // The access line's status (Int) and duration (Double) first: a cast to a concrete
            // type is cheap, the one to `any BinaryInteger` looks up conformances.
            if let number = convertible as? Int {
                writer.integer(number)
            } else if let number = convertible as? Double, number.isFinite {
                writer.double(number)
            } else if let number = convertible as? any BinaryInteger {
                writer.raw(String(describing: number).utf8)
            } else {
                writer.string(convertible.description)
            }
        case .array(let values):
            writer.beginArray()
            for element in values { write(element, to: &writer) }
            writer.endArray()
        case .dictionary(let entries):
            writer.beginObject()
            for entry in entries.sorted(by: { $0.key < $1.key }) {
                writer.key(entry.key)
                write(entry.value, to: &writer)
            }
            writer.endObject()
        }
    }

    /// `"YYYY-MM-DDThh:mm:ss.mmmZ"`, quotes included.
    private static func timestamp(_ time: WallClock) -> [UInt8] {
        var seconds = time_t(time.seconds)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var out: [UInt8] = []
        out.reserveCapacity(26)
        func digits(_ value: Int, _ width: Int, then separator: Character) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                divisor /= 10
            }
            out.append(UInt8(ascii: separator.unicodeScalars.first!))
        }
        out.append(UInt8(ascii: "\""))
        digits(Int(parts.tm_year) + 1900, 4, then: "-")
        digits(Int(parts.tm_mon) + 1, 2, then: "-")
        digits(Int(parts.tm_mday), 2, then: "T")
        digits(Int(parts.tm_hour), 2, then: ":")
        digits(Int(parts.tm_min), 2, then: ":")
        digits(Int(parts.tm_sec), 2, then: ".")
        digits(time.milliseconds, 3, then: "Z")
        out.append(UInt8(ascii: "\""))
        return out
    }
}
