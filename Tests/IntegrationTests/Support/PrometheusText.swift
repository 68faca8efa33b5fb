import Foundation

/// The samples of a Prometheus text scrape, by `name{label="value",...}` as written (labels in
/// the order the exporter writes them). For Swift live tests; the Python tests use the real parser.
struct PrometheusText {
    let samples: [String: Double]

    init(_ text: String) {
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        self.samples = samples
    }

    static func scrape(_ address: String) async throws -> PrometheusText {
        PrometheusText(String(decoding: try await httpCall(.GET, "http://\(address)/metrics").body, as: UTF8.self))
    }

    /// The value of a sample whose series starts with `prefix`: a name, or a name and its leading
    /// labels (closed with `}`, or left open).
    func value(_ prefix: String) -> Double? {
        samples.first { key, _ in
            if key == prefix { return true }
            if !prefix.contains("{") { return key.hasPrefix(prefix + "{") }
            return key.hasPrefix(prefix.hasSuffix("}") ? String(prefix.dropLast()) + "," : prefix)
        }?.value
    }
}
