import Foundation
import PcapNG
import Socks5
import Testing
import UDPChecks

/// `send --replay`: a tcpdump capture of real DNS traffic sent again through Dante, and every kind
/// of bad input refused before anything is sent.
@Suite(.tags(.peers), .needsPeers, .serialized) struct ReplayTests {
    /// Captures `queries` DNS exchanges with dnsmasq on loopback with tcpdump (root: CI is).
    static func tcpdumpCaptureOfDNS(queries: Int) throws -> (path: String, port: UInt16) {
        let services = try UDPServices.shared()
        let dir = try makeTemporaryDirectory("replay")
        let path = dir + "/dns.pcap"
        let tcpdump = try PeerProcess(
            name: "tcpdump",
            executable: "tcpdump",
            // -Z root: tcpdump would write as user tcpdump, who cannot enter the test's folder.
            arguments: [
                "-i", "lo", "-n", "--immediate-mode", "-U", "-Z", "root", "-w", path, "udp port \(services.dnsPort)",
            ],
            logPath: dir + "/tcpdump.log"
        )
        defer { tcpdump.stop() }
        let deadline = Date().addingTimeInterval(10)
        while !tcpdump.log.contains("listening on"), Date() < deadline { usleep(20_000) }
        #expect(tcpdump.log.contains("listening on"), "\(tcpdump.log)")
        let fd = TestSockets.datagram(.ipv4)
        defer { close(fd) }
        let server = services.dns(.ipv4)
        var answered = 0
        for i in 0..<queries {
            let query = try DNSQuery(id: UInt16(0x4000 + i), name: "socksdeck.test", type: .a).encoded()
            _ = server.withSockaddr { sendto(fd, query, query.count, 0, $0, $1) }
            var buffer = [UInt8](repeating: 0, count: 2048)
            if recv(fd, &buffer, buffer.count, 0) > 0 { answered += 1 }
            usleep(20_000)
        }
        #expect(answered == queries)
        // --immediate-mode and -U: each packet is written as it comes; a moment for the last ones.
        let written = Date().addingTimeInterval(5)
        while !tcpdump.log.contains("listening"), Date() < written { usleep(20_000) }
        usleep(300_000)
        return (path, services.dnsPort)
    }

    @Test func aTcpdumpCaptureOfDNSReplaysThroughDanteAndEveryQueryIsAnswered() throws {
        let peers = try TestPeers.shared()
        let (capture, port) = try Self.tcpdumpCaptureOfDNS(queries: 5)
        let out = try makeTemporaryDirectory("replay-out") + "/replay.pcapng"
        let r = try CLITests.run([
            "send", "127.0.0.1:\(peers.danteNoAuth.port)", "--replay", capture, "--filter", "udp dst port \(port)",
            "--json", "--pcap", out,
        ])
        #expect(r.status == 0, "\(r.output)")
        let report = try #require(CLITests.jsonLines(r.output).first)
        #expect(report["sent"] as? Int == 5)
        #expect(report["answered"] as? Int == 5)
        let datagrams = report["datagrams"] as? [[String: Any]] ?? []
        #expect(datagrams.count == 5)
        #expect(
            datagrams.allSatisfy { $0["answered"] as? Bool == true && $0["target"] as? String == "127.0.0.1:\(port)" }
        )
        // The capture's spacing was kept (20 ms between queries, give or take the machine).
        let last = datagrams.last?["sentAfterMs"] as? Double ?? 0
        #expect(last > 60, "\(datagrams)")
        // --pcap recorded the replay: five queries and five answers in the inner view, as DNS.
        let frames = try Tshark.frames(out, fields: ["frame.interface_id", "dns.flags.response", "dns.id"])
        let inner = frames.filter { $0["frame.interface_id"] == "1" }
        #expect(inner.filter { $0["dns.flags.response"] == "0" || $0["dns.flags.response"] == "False" }.count == 5)
        #expect(inner.filter { $0["dns.flags.response"] == "1" || $0["dns.flags.response"] == "True" }.count == 5)
        #expect(Set(inner.map { $0["dns.id"] ?? "" }) == Set((0..<5).map { String(format: "0x%04x", 0x4000 + $0) }))
    }

    @Test func textOutputSaysPerDatagramWhetherItWasAnswered() throws {
        let peers = try TestPeers.shared()
        let (capture, port) = try Self.tcpdumpCaptureOfDNS(queries: 2)
        // Sent elsewhere (a port where nothing answers): each line says so, exit 3.
        let r = try CLITests.run([
            "send", "127.0.0.1:\(peers.danteNoAuth.port)", "--replay", capture, "--filter", "udp dst port \(port)",
            "--timing", "fast", "--rewrite-target", "127.0.0.1:\(peers.closedPort)", "--wait-reply", "300",
        ])
        #expect(r.status == 3, "\(r.output)")
        #expect(r.output.contains("replaying 2 datagram(s) from \(capture) (filter 'udp dst port \(port)')"))
        let lines = r.output.split(separator: "\n").filter { $0.hasPrefix("#") }
        #expect(lines.count == 2)
        #expect(
            lines.allSatisfy {
                $0.contains("→ 127.0.0.1:\(peers.closedPort)") && $0.contains("no answer within 300 ms")
            }
        )
        #expect(r.output.contains("replayed 2: answered 0, unanswered 2"))
        let good = try CLITests.run([
            "send", "127.0.0.1:\(peers.danteNoAuth.port)", "--replay", capture, "--filter", "udp dst port \(port)",
        ])
        #expect(good.status == 0, "\(good.output)")
        #expect(good.output.split(separator: "\n").filter { $0.hasPrefix("#") && $0.contains("answered, ") }.count == 2)
        #expect(good.output.contains("replayed 2: answered 2, unanswered 0; RTT min"))
    }

    /// A pcapng of one association's control connection only: a capture with no UDP in it.
    static func tcpOnlyCapture() -> [UInt8] {
        var capture = AssociationCapture(label: "tcp only")
        let client = IPEndpoint(.v4(.loopback), port: 40_000)
        let server = IPEndpoint(.v4(.loopback), port: 1080)
        var packets = capture.controlOpened(client: client, server: server, at: 1_000)
        packets += capture.controlData(fromClient: true, [5, 1, 0], at: 2_000)
        var writer = PcapNGWriter()
        return writer.encode(packets, of: "1", label: "tcp only")
    }

    static func udpCapture() -> [UInt8] {
        var capture = AssociationCapture(label: "udp")
        let a = IPEndpoint(.v4(.loopback), port: 40_000)
        let b = IPEndpoint(.v4(.loopback), port: 53)
        let packets = capture.datagram(wire: nil, inner: UDPFlow(from: a, to: b, payload: [1, 2, 3]), at: 1_000)
        var writer = PcapNGWriter()
        return writer.encode(packets, of: "1", label: "udp")
    }

    @Test func badCapturesExit65BadFiltersExit64AndNothingIsSent() throws {
        let peers = try TestPeers.shared()
        let dir = try makeTemporaryDirectory("replay-bad")
        // A server where nothing listens: had anything been sent, the exit would be 1 (refused).
        let nowhere = "127.0.0.1:\(peers.closedPort)"
        func replay(_ bytes: [UInt8], _ extra: [String] = []) throws -> (status: Int32, output: String) {
            let path = dir + "/\(UUID().uuidString).pcapng"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return try CLITests.run(["send", nowhere, "--replay", path] + extra)
        }
        let text = try replay(Array("this is not a capture\n".utf8))
        #expect(text.status == 65, "\(text.output)")
        #expect(text.output.contains("as a capture: "))
        let good = Self.udpCapture()
        let cut = try replay(Array(good.dropLast(12)))
        #expect(cut.status == 65, "\(cut.output)")
        #expect(cut.output.contains("is damaged after 0 frame(s)") && cut.output.contains("nothing was sent"))
        let tcp = try replay(Self.tcpOnlyCapture())
        #expect(tcp.status == 65, "\(tcp.output)")
        #expect(tcp.output.contains("holds no UDP datagram: 4 frame(s) (4 not UDP)"), "\(tcp.output)")
        let filtered = try replay(good, ["--filter", "udp port 9"])
        #expect(filtered.status == 65)
        #expect(filtered.output.contains("holds no UDP datagram that passes the filter"))
        let badFilter = try replay(good, ["--filter", "udp dst port"])
        #expect(badFilter.status == 64, "\(badFilter.output)")
        #expect(
            badFilter.output.contains(
                "the filter 'udp dst port' does not compile: can't parse filter expression: syntax error"
            )
        )
        // A missing capture is a missing input (66), as a missing --file is (issue 29).
        let missing = try CLITests.run(["send", nowhere, "--replay", dir + "/none.pcap"])
        #expect(missing.status == 66)
        #expect(missing.output.contains("No such file or directory"))
        for r in [text, cut, tcp, filtered, badFilter, missing] {
            #expect(!r.output.contains("association"), "\(r.output)")
        }
        let mixed = try CLITests.run(["send", nowhere, "echo", "--replay", dir + "/none.pcap"])
        #expect(mixed.status == 64)
        #expect(mixed.output.contains("leave TARGET out"))
    }
}
