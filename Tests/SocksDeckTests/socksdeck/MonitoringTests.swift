import Foundation
import Testing

/// What a fleet's operators load into Prometheus and Grafana (monitoring/), checked with
/// Prometheus' own promtool: the alerting rules parse and fire on the series they should; every
/// expression of the dashboard parses; every metric they name is one `socksdeck watch` exports,
/// and that export passes promtool's lint.
@Suite(.tags(.peers), .needsPeers, .serialized) struct MonitoringTests {
    static func promtool() throws -> String {
        guard let path = PeerProcess.which("promtool") else {
            throw PeerError.missing("promtool is not installed: bash scripts/setup.sh installs it")
        }
        return path
    }

    static let rules = Repository.path("monitoring/prometheus/socksdeck-alerts.yml")
    static let dashboard = Repository.path("monitoring/grafana/socksdeck-dashboard.json")

    /// Every PromQL expression of the dashboard's panels.
    static func dashboardExpressions() throws -> [String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: dashboard))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let panels = try #require(object["panels"] as? [[String: Any]])
        return panels.flatMap { ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String } }
    }

    /// The metric names an expression reads: the words before a '{' or '[' that start socksdeck_.
    static func metricNames(in text: String) -> Set<String> {
        let pattern = try! NSRegularExpression(pattern: #"socksdeck_[a-z_]+"#)
        let range = NSRange(text.startIndex..., in: text)
        return Set(pattern.matches(in: text, range: range).map { String(text[Range($0.range, in: text)!]) })
    }

    @Test func theAlertingRulesParseAndTheirUnitTestsPass() throws {
        let check = try runToCompletion(try Self.promtool(), ["check", "rules", Self.rules])
        #expect(check.status == 0 && check.output.contains("SUCCESS: 4 rules found"), "\(check.output)")
        let test = try runToCompletion(
            "/bin/sh",
            [
                "-c",
                "cd \(Repository.path("monitoring/prometheus")) && '\(try Self.promtool())' test rules "
                    + "socksdeck-alerts.test.yml",
            ]
        )
        #expect(test.status == 0 && test.output.contains("SUCCESS"), "\(test.output)")
    }

    @Test func everyDashboardExpressionParses() throws {
        let expressions = try Self.dashboardExpressions()
        #expect(expressions.count >= 9)
        // promtool parses PromQL in rule files only: each expression becomes a recording rule,
        // with Grafana's variables replaced by what they expand to.
        let rules = expressions.enumerated().map { i, expr in
            let concrete = expr.replacingOccurrences(of: "$server", with: ".*")
            return
                "      - record: dashboard:expression_\(i)\n        expr: "
                + "'\(concrete.replacingOccurrences(of: "'", with: "''"))'"
        }
        let path = try makeTemporaryDirectory("dashboard") + "/expressions.yml"
        try ("groups:\n  - name: dashboard\n    rules:\n" + rules.joined(separator: "\n") + "\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let check = try runToCompletion(try Self.promtool(), ["check", "rules", path])
        #expect(check.status == 0, "\(check.output)")
    }

    /// The metrics the rules and the dashboard read are the ones a real `watch` (through Dante,
    /// with a probe) exports, and promtool's linter finds nothing in the export.
    @Test func theyReadMetricsWatchExportsAndTheExportPassesPromtoolsLint() throws {
        let peers = try TestPeers.shared()
        let config = try CLITests.writeConfig(
            """
            [[server]]
            name = "watched"
            address = "127.0.0.1:\(peers.danteNoAuth.port)"
            echo = "127.0.0.1:\(peers.echo.port)"
            """
        )
        let port = TestSockets.freePort()
        let dir = try makeTemporaryDirectory("monitoring")
        let pid = try spawn(
            try CLITests.binary(),
            ["watch", "--config", config, "--interval", "100", "--duration", "30", "--metrics", "127.0.0.1:\(port)"],
            logPath: dir + "/watch.log"
        )
        defer {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        _ = try WatchTests.waitUntil(port) { ($0["socksdeck_probes_answered_total"] ?? 0) >= 3 }
        let exposition = WatchTests.scrape(port)
        try exposition.write(toFile: dir + "/metrics.txt", atomically: true, encoding: .utf8)
        let lint = try runToCompletion(
            "/bin/sh",
            ["-c", "'\(try Self.promtool())' check metrics < \(dir)/metrics.txt"]
        )
        #expect(lint.status == 0, "promtool check metrics: \(lint.output)")

        let exported = Set(
            exposition.split(separator: "\n").compactMap { line -> String? in
                guard !line.hasPrefix("#"), let name = line.split(separator: "{").first else { return nil }
                return String(name)
            }
        )
        let rulesText = try String(contentsOfFile: Self.rules, encoding: .utf8)
        let read = Self.metricNames(in: rulesText).union(
            try Self.dashboardExpressions().flatMap { Self.metricNames(in: $0) }
        )
        #expect(read.count >= 10, "\(read)")
        for name in read { #expect(exported.contains(name), "\(name) is read but not exported") }
    }
}
