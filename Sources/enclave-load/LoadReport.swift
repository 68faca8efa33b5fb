import Foundation

/// Throughput and latency percentiles (nearest rank) of one run.
struct LoadReport {
    let endpoint: String
    let connections: Int
    let seconds: Double
    let requests: Int
    let p50, p90, p99, max: Double
    let sent, answered, non200, refused, dropped, retried: Int
    let answersChecked, answersUnauthenticated: Int
    let statuses: [Int: Int]

    init(run: LoadRun, connections: Int, endpoint: String, seconds: Double) {
        let sorted = run.latenciesMicros.sorted()
        func percentile(_ p: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            let rank = Int((p * Double(sorted.count)).rounded(.up))
            return Double(sorted[Swift.max(0, Swift.min(sorted.count - 1, rank - 1))]) / 1000
        }
        self.endpoint = endpoint
        self.connections = connections
        self.seconds = seconds
        requests = sorted.count
        p50 = percentile(0.50)
        p90 = percentile(0.90)
        p99 = percentile(0.99)
        max = percentile(1.0)
        sent = run.sent
        answered = run.answered
        non200 = run.answered - (run.statuses[200] ?? 0)
        refused = run.refused
        dropped = run.dropped
        retried = run.retried
        answersChecked = run.answersChecked
        answersUnauthenticated = run.answersUnauthenticated
        statuses = run.statuses
    }

    var rps: Double { Double(requests) / seconds }
    var passed: Bool { non200 == 0 && dropped == 0 && answersUnauthenticated == 0 }

    private func ms(_ value: Double) -> String { String(format: "%.3f", value) }

    var text: String {
        var lines = [
            "\(endpoint): \(connections) connections, \(String(format: "%.1f", seconds)) s: \(requests) requests, \(String(format: "%.0f", rps)) req/s",
            "latency ms: p50 \(ms(p50))  p90 \(ms(p90))  p99 \(ms(p99))  max \(ms(max))",
            "sent \(sent), answered \(answered) (non-200 \(non200)), refused \(refused), dropped \(dropped), retried \(retried)",
            "answers checked \(answersChecked) (1 in \(LoadRun.answerSample) signed), not authenticated \(answersUnauthenticated)",
        ]
        for (status, count) in statuses.sorted(by: { $0.key < $1.key }) where status != 200 {
            lines.append("status \(status): \(count)")
        }
        return lines.joined(separator: "\n")
    }

    var json: String {
        let statusText = statuses.sorted(by: { $0.key < $1.key }).map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",")
        return #"{"endpoint":"\#(endpoint)","connections":\#(connections),"seconds":\#(seconds),"requests":\#(requests),"rps":\#(String(format: "%.1f", rps)),"p50_ms":\#(ms(p50)),"p90_ms":\#(ms(p90)),"p99_ms":\#(ms(p99)),"max_ms":\#(ms(max)),"sent":\#(sent),"answered":\#(answered),"non200":\#(non200),"refused":\#(refused),"dropped":\#(dropped),"retried":\#(retried),"answers_checked":\#(answersChecked),"answers_unauthenticated":\#(answersUnauthenticated),"statuses":{\#(statusText)}}"#
    }
}
