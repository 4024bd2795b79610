import Foundation
import Socks5
import Testing

/// `socksdeck watch --metrics` as a monitoring system sees it: scraped over HTTP, parsed by
/// prometheus_client's own parser, counters that match and survive Dante being restarted.
@Suite(.tags(.peers), .needsPeers, .serialized) struct WatchTests {
    /// GET /metrics with a plain socket (no client library needed for one request).
    static func scrape(_ port: UInt16, path: String = "/metrics") -> String {
        let fd = TestSockets.stream(.ipv4)
        defer { close(fd) }
        TestSockets.setReceiveTimeout(fd, milliseconds: 3000)
        guard IPEndpoint.loopback(.ipv4, port).withSockaddr({ connect(fd, $0, $1) }) == 0 else { return "" }
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        _ = send(fd, request, request.utf8.count, Int32(MSG_NOSIGNAL))
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            data += buffer[0..<n]
        }
        let text = String(decoding: data, as: UTF8.self)
        if path != "/metrics" { return text }
        return text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
    }

    /// Sample values by name and server, parsed by prometheus_client (which fails loudly on any
    /// malformed line).
    static func parse(_ text: String) throws -> [String: Double] {
        let script = """
            import sys, json
            from prometheus_client.parser import text_string_to_metric_families
            out = {}
            for family in text_string_to_metric_families(sys.stdin.read()):
                for s in family.samples:
                    if s.labels.get("server") == "watched" and "le" not in s.labels and "reason" not in s.labels:
                        out[s.name] = s.value
            print(json.dumps(out))
            """
        let dir = try makeTemporaryDirectory("prom")
        try text.write(toFile: dir + "/metrics.txt", atomically: true, encoding: .utf8)
        let r = try runToCompletion(
            "/bin/sh",
            ["-c", "\(try ThirdPartyClientTests.python()) -c '\(script)' < \(dir)/metrics.txt"]
        )
        guard r.status == 0,
            let object = try JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [String: Double]
        else {
            throw PeerError.failed("prometheus_client could not parse the metrics: \(r.output)\n\(text)")
        }
        return object
    }

    static func waitUntil(
        _ port: UInt16,
        seconds: Double = 10,
        _ condition: ([String: Double]) -> Bool
    ) throws -> [String: Double] {
        let deadline = Date().addingTimeInterval(seconds)
        var last: [String: Double] = [:]
        while Date() < deadline {
            let text = scrape(port)
            if !text.isEmpty {
                last = try parse(text)
                if condition(last) { return last }
            }
            usleep(200_000)
        }
        return last
    }

    @Test func metricsParseMatchTheDatagramsAndSurviveADanteRestart() throws {
        let peers = try TestPeers.shared()
        var dante: DanteServer? = try DanteServer(configuration: "sockd-noauth.conf")
        let dantePort = dante!.port
        let config = try CLITests.writeConfig(
            """
            [[server]]
            name = "watched"
            address = "127.0.0.1:\(dantePort)"
            echo = "127.0.0.1:\(peers.echo.port)"
            """
        )
        let metricsPort = TestSockets.freePort()
        let dir = try makeTemporaryDirectory("watch")
        let pid = try spawn(
            try CLITests.binary(),
            [
                "watch", "--config", config, "--interval", "100", "--duration", "60",
                "--metrics", "127.0.0.1:\(metricsPort)", "--json",
            ],
            logPath: dir + "/watch.log"
        )
        defer {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            dante?.stop()
        }
        let up = try Self.waitUntil(metricsPort) { ($0["socksdeck_probes_answered_total"] ?? 0) >= 5 }
        #expect(up["socksdeck_association_up"] == 1, "\(up)")
        // Every datagram sent is a probe; every one received an answer (loopback, no loss).
        #expect(up["socksdeck_datagrams_sent_total"] == up["socksdeck_probes_sent_total"])
        #expect((up["socksdeck_datagrams_received_total"] ?? 0) >= (up["socksdeck_probes_answered_total"] ?? 1))
        #expect(up["socksdeck_reconnects_total"] == 0)
        #expect((up["socksdeck_probe_rtt_seconds_count"] ?? 0) >= 5)
        let healthy = Self.scrape(metricsPort, path: "/healthz")
        #expect(healthy.hasPrefix("HTTP/1.1 200") && healthy.hasSuffix("\r\n\r\nok\n"), "\(healthy)")

        dante?.stop()
        let down = try Self.waitUntil(metricsPort) { $0["socksdeck_association_up"] == 0 }
        #expect(down["socksdeck_association_up"] == 0)
        let sentBefore = down["socksdeck_datagrams_sent_total"] ?? 0
        let unhealthy = Self.scrape(metricsPort, path: "/healthz")
        #expect(unhealthy.hasPrefix("HTTP/1.1 503") && unhealthy.contains("down: watched ("), "\(unhealthy)")
        // The probe's figures of the association that ended are kept (they went back to 0 once).
        for name in [
            "socksdeck_probes_sent_total", "socksdeck_probes_answered_total", "socksdeck_probe_rtt_seconds_count",
        ] {
            #expect((down[name] ?? 0) >= (up[name] ?? 1), "\(name) went back: \(up[name] ?? 0) -> \(down[name] ?? 0)")
        }

        dante = try DanteServer(configuration: "sockd-noauth.conf", port: dantePort)
        let again = try Self.waitUntil(metricsPort, seconds: 20) {
            $0["socksdeck_association_up"] == 1 && ($0["socksdeck_datagrams_sent_total"] ?? 0) > sentBefore
        }
        #expect(again["socksdeck_association_up"] == 1, "\(again)")
        #expect((again["socksdeck_reconnects_total"] ?? 0) >= 1)
        #expect((again["socksdeck_datagrams_sent_total"] ?? 0) > sentBefore, "counters keep their history")
        for name in [
            "socksdeck_probes_sent_total", "socksdeck_probes_answered_total", "socksdeck_probe_rtt_seconds_count",
        ] {
            #expect(
                (again[name] ?? 0) >= (down[name] ?? 1),
                "\(name) went back: \(down[name] ?? 0) -> \(again[name] ?? 0)"
            )
        }

        // SIGTERM ends it cleanly; the JSON lines told the story.
        kill(pid, SIGTERM)
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(10)
        while waitpid(pid, &status, WNOHANG) == 0 && Date() < deadline { usleep(50_000) }
        #expect(status & 0x7F == 0 && (status >> 8) & 0xFF == 0, "exit status \(status)")
        let log = (try? String(contentsOfFile: dir + "/watch.log", encoding: .utf8)) ?? ""
        let events = CLITests.jsonLines(log).compactMap { $0["event"] as? String }
        #expect(
            events.contains("associated") && events.contains("closed") && events.contains("interval"),
            "\(log.suffix(2000))"
        )
    }

    /// watch --check dns: the resolver answering through the association is the health signal,
    /// counted in the metrics (answered, lost, an RTT histogram), and /healthz says so.
    @Test func aDNSCheckIsTheHealthSignalAndItsMetrics() throws {
        let peers = try TestPeers.shared()
        let services = try UDPServices.shared()
        let config = try CLITests.writeConfig(
            """
            [[server]]
            name = "watched"
            address = "127.0.0.1:\(peers.danteNoAuth.port)"
            dns = "127.0.0.1:\(services.dnsPort)"
            """
        )
        let metricsPort = TestSockets.freePort()
        let dir = try makeTemporaryDirectory("watchcheck")
        let pid = try spawn(
            try CLITests.binary(),
            [
                "watch", "--config", config, "--interval", "100", "--duration", "30", "--check", "dns", "--name",
                "socksdeck.test", "--metrics", "127.0.0.1:\(metricsPort)",
            ],
            logPath: dir + "/watch.log"
        )
        defer {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        let up = try Self.waitUntil(metricsPort) { ($0["socksdeck_check_answered_total"] ?? 0) >= 3 }
        #expect((up["socksdeck_check_answered_total"] ?? 0) >= 3 && up["socksdeck_check_lost_total"] == 0, "\(up)")
        #expect((up["socksdeck_check_rtt_seconds_count"] ?? 0) >= 3)
        #expect(up["socksdeck_probes_sent_total"] == 0, "no echo probe runs beside the check")
        let healthy = Self.scrape(metricsPort, path: "/healthz")
        #expect(healthy.hasPrefix("HTTP/1.1 200"), "\(healthy)")
        let log = (try? String(contentsOfFile: dir + "/watch.log", encoding: .utf8)) ?? ""
        #expect(log.contains("checking dns 127.0.0.1:\(services.dnsPort) every interval (no echo probe)"), "\(log)")
        #expect(log.contains(" check answered "), "\(log)")
    }
}
