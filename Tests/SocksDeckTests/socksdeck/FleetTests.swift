import Foundation
import Socks5
import Testing

/// Vetting a list of proxies (issue 32): 300 local "proxies" of five kinds, each judged right,
/// streamed as JSON lines, with a bad line named by file and line and a duplicate reported once.
@Suite(.tags(.peers), .needsPeers, .serialized) struct FleetTests {
    /// Each kind on its own loopback addresses, all on one port: `serve` that works, `serve` that
    /// cuts every datagram to 10 bytes (the DNS query no longer parses: no data comes back),
    /// `serve --no-udp`, addresses where nothing listens, and listeners that never answer.
    struct Proxies {
        let port: UInt16
        let kinds: [(prefix: String, verdict: String)] = [
            ("127.0.5.", "works"), ("127.0.6.", "no-data"), ("127.0.7.", "refused"), ("127.0.8.", "unreachable"),
            ("127.0.9.", "timed-out"),
        ]
        var relays: [PeerProcess] = []
        var silent: [Int32] = []

        init(perKind: Int) throws {
            port = TestSockets.freePort()
            for (index, arguments) in [[], ["--cut-datagrams", "10"], ["--no-udp"]].enumerated() {
                let listen = (1...perKind).flatMap { ["--listen", "\(kinds[index].prefix)\($0):\(port)"] }
                let relay = try PeerProcess(
                    name: "fleet-\(kinds[index].verdict)",
                    executable: try CLITests.binary(),
                    arguments: ["serve"] + listen + arguments,
                    logPath: try makeTemporaryDirectory("fleet") + "/log"
                )
                relays.append(relay)
                try relay.waitUntilListening(port: port, host: "\(kinds[index].prefix)\(perKind)")
            }
            // Accepted by the kernel (the backlog), never by anyone: the greeting is never answered.
            for i in 1...perKind {
                let fd = TestSockets.stream(.ipv4)
                _ = IPEndpoint(IPAddress("127.0.9.\(i)")!, port: port).withSockaddr { bind(fd, $0, $1) }
                #expect(listen(fd, 8) == 0)
                silent.append(fd)
            }
        }

        func stop() {
            for relay in relays { relay.stop() }
            for fd in silent { close(fd) }
        }

        func verdict(of server: String) -> String? {
            kinds.first { server.hasPrefix($0.prefix) }?.verdict
        }
    }

    @Test func threeHundredProxiesOfFiveKindsAreEachJudgedRight() throws {
        let services = try UDPServices.shared()
        let proxies = try Proxies(perKind: 60)
        defer { proxies.stop() }
        let dir = try makeTemporaryDirectory("fleetlist")
        var lines = ["# five kinds of proxy, 60 each"]
        for kind in proxies.kinds { lines += (1...60).map { "\(kind.prefix)\($0):\(proxies.port)" } }
        lines.insert("socks5://127.0.5.1:\(proxies.port)  # listed twice", at: 5)
        try lines.joined(separator: "\n").write(toFile: dir + "/list", atomically: true, encoding: .utf8)
        let r = try CLITests.run([
            "check", "--servers-from", dir + "/list", "--dns", "127.0.0.1:\(services.dnsPort)", "--name",
            "socksdeck.test", "--json",
        ])
        #expect(r.status == 1, "the worst verdict (refused, unreachable, timed out) exits 1")
        let objects = CLITests.jsonLines(r.output)
        #expect(objects.count == 300, "one line per proxy, the duplicate once: \(objects.count)")
        var wrong: [String] = []
        for object in objects {
            let server = object["server"] as? String ?? "?"
            let verdict = object["verdict"] as? String
            if verdict != proxies.verdict(of: server) { wrong.append("\(server): \(verdict ?? "none")") }
        }
        #expect(wrong.isEmpty, "\(wrong.prefix(10))")
        #expect(
            r.output.contains("listed more than once, vetted once") && r.output.contains("list:6"),
            "\(r.output.suffix(300))"
        )
    }

    @Test func theTableIsSortedByVerdictWithCountsAndABadLineIsNamed() throws {
        let services = try UDPServices.shared()
        let proxies = try Proxies(perKind: 2)
        defer { proxies.stop() }
        let dir = try makeTemporaryDirectory("fleettable")
        let servers = ["127.0.8.1", "127.0.7.1", "127.0.6.1", "127.0.5.1"].map { "\($0):\(proxies.port)" }
        try servers.joined(separator: "\n").write(toFile: dir + "/list", atomically: true, encoding: .utf8)
        let r = try CLITests.run([
            "check", "--servers-from", dir + "/list", "--dns", "127.0.0.1:\(services.dnsPort)", "--name",
            "socksdeck.test",
        ])
        #expect(r.status == 1, "\(r.output)")
        let rows = r.output.split(separator: "\n").filter { $0.hasPrefix("127.0.") }.map(String.init)
        #expect(rows.map { String($0.prefix(9)) } == ["127.0.5.1", "127.0.6.1", "127.0.7.1", "127.0.8.1"], "\(rows)")
        #expect(r.output.contains("4 servers in "), "\(r.output)")
        #expect(
            r.output.contains("works 1, accepts but carries no data 1, refused 1, unreachable 1"),
            "\(r.output)"
        )
        // Windows line endings too: "\r\n" is one Character to Swift, which a split on "\n" misses.
        try "127.0.5.1:\(proxies.port)\r\n\r\nnot a proxy\r\n".write(
            toFile: dir + "/bad",
            atomically: true,
            encoding: .utf8
        )
        let bad = try CLITests.run(["check", "--servers-from", dir + "/bad", "--dns", "127.0.0.1:53"])
        #expect(bad.status == 64 && bad.output.contains("\(dir)/bad:3: 'not a proxy'"), "\(bad.output)")
        let tooMany = try CLITests.run(["check", "a:1", "b:1", "--dns", "127.0.0.1", "--parallel", "1025"])
        #expect(tooMany.status == 64 && tooMany.output.contains("--parallel takes 1 to 1024"))
    }

    /// On a terminal, a progress line on stderr while the slow ones are still waited for: done of
    /// total, the rate, the ETA and the verdicts so far.
    @Test func aProgressLineShowsWhileItRuns() throws {
        let services = try UDPServices.shared()
        let proxies = try Proxies(perKind: 2)
        defer { proxies.stop() }
        let dir = try makeTemporaryDirectory("fleetprogress")
        let servers = ["127.0.5.1", "127.0.5.2", "127.0.9.1", "127.0.9.2"].map { "\($0):\(proxies.port)" }
        try servers.joined(separator: "\n").write(toFile: dir + "/list", atomically: true, encoding: .utf8)
        let tmux = try TmuxSession(
            width: 160,
            arguments: ["check", "--servers-from", dir + "/list", "--dns", "127.0.0.1:\(services.dnsPort)"],
            environment: ["XDG_CONFIG_HOME": try makeTemporaryDirectory("fleetxdg")]
        )
        defer { tmux.kill() }
        // The two silent ones take the 10 s handshake timeout; the two that work are done at once.
        let shown = tmux.waitFor("checking 4 servers, 4 at a time: 2 done (50 %)")
        #expect(shown.found, "\(shown.screen)")
        #expect(
            shown.screen.contains("ETA") && shown.screen.contains("; answers, but a check failed 2"),
            "\(shown.screen)"
        )
        let end = tmux.waitFor("4 servers in ", seconds: 20)
        #expect(end.found && !end.screen.contains("checking 4 servers"), "the line is gone at the end: \(end.screen)")
    }

    /// probe over several servers shares the runner: a table sorted by verdict, the counts, the
    /// worst verdict's exit code, JSON lines with a verdict each.
    @Test func probeOverSeveralServersSortsByVerdict() throws {
        let text = try CLITests.run(["probe", "--demo", "demo-nowhere", "demo-no-udp", "demo"])
        #expect(text.status == 1, "\(text.output)")
        let rows = text.output.split(separator: "\n").filter { $0.hasPrefix("demo") }.map {
            $0.split(separator: " ")[0]
        }
        #expect(rows == ["demo", "demo-no-udp", "demo-nowhere"], "\(text.output)")
        #expect(
            text.output.contains("3 servers in ") && text.output.contains("refused 1, unreachable 1"),
            "\(text.output)"
        )
        let json = try CLITests.run(["probe", "--demo", "demo", "demo-no-udp", "--json"])
        let verdicts = Set(CLITests.jsonLines(json.output).compactMap { $0["verdict"] as? String })
        #expect(verdicts == ["works", "refused"] || verdicts == ["untested", "refused"], "\(json.output)")
    }
}
