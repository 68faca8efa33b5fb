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
            time: WallClock.now(), level: event.level, message: event.message.description, label: label, metadata: merged)
        line.append(0x0a)
        _ = LineOutput.write(line, to: descriptor)  // stderr gone: logging must never stop the server
    }
}

/// Whole lines to a file descriptor, one writer at a time (log lines and audit events share
/// stderr and never interleave).
enum LineOutput {
    private static let lock = Mutex<Void>(())

    /// Writes all of `line`; false when the descriptor refused it (full disk, closed pipe).
    static func write(_ line: [UInt8], to descriptor: Int32) -> Bool {
        lock.withLock { _ in
            line.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                    if written > 0 {
                        offset += written
                    } else if written < 0 && errno == EINTR {
                        continue
                    } else {
                        return false
                    }
                }
                return true
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
        // Only the names are sorted, then each value looked up: names are small strings, cheap to
        // move, where moving (name, value) pairs through the sort cost more than the rest of the
        // line. The fixed fields win over metadata of the same name, so every key appears once.
        var names: [String] = []
        names.reserveCapacity(metadata.count + 4)
        names.append(contentsOf: ["level", "logger", "message", "time"])
        for name in metadata.keys where !isFixedName(name) { names.append(name) }
        names.sort()
        var writer = JSONWriter()
        writer.beginObject()
        for name in names {
            writer.key(name)
            switch name {
            case "level": writer.string(level.rawValue)
            case "logger": writer.string(label)
            case "message": writer.string(message)
            case "time": writeTimestamp(time, to: &writer)
            default: write(metadata[name]!, to: &writer)
            }
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

    /// `"YYYY-MM-DDThh:mm:ss.mmmZ"`, quotes included, built on the stack.
    static func writeTimestamp(_ time: WallClock, to writer: inout JSONWriter) {
        var seconds = time_t(time.seconds)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var out = InlineArray<26, UInt8>(repeating: UInt8(ascii: "\""))
        var position = 1
        func digits(_ value: Int, _ width: Int, then separator: UInt8) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            while divisor > 0 {
                out[position] = UInt8(ascii: "0") + UInt8(value / divisor % 10)
                position += 1
                divisor /= 10
            }
            out[position] = separator
            position += 1
        }
        digits(Int(parts.tm_year) + 1900, 4, then: UInt8(ascii: "-"))
        digits(Int(parts.tm_mon) + 1, 2, then: UInt8(ascii: "-"))
        digits(Int(parts.tm_mday), 2, then: UInt8(ascii: "T"))
        digits(Int(parts.tm_hour), 2, then: UInt8(ascii: ":"))
        digits(Int(parts.tm_min), 2, then: UInt8(ascii: ":"))
        digits(Int(parts.tm_sec), 2, then: UInt8(ascii: "."))
        digits(time.milliseconds, 3, then: UInt8(ascii: "Z"))
        writer.raw(out.span)
    }
}
