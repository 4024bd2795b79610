import Foundation
import Socks5
import Testing

/// `serve --pcap`: the relay's side of an association with a real client (PySocks, RFC 1929),
/// read back by tshark: the client's handshake, the datagrams client↔relay with their headers,
/// and relay↔target as plain UDP.
@Suite(.tags(.peers), .needsPeers, .serialized) struct RelayCaptureTests {
    @Test func serveCapturesBothSidesOfAPySocksAssociation() throws {
        let peers = try TestPeers.shared()
        let port = TestSockets.freePort()
        let dir = try makeTemporaryDirectory("serve-capture")
        let capture = dir + "/relay.pcapng"
        var environment = ProcessInfo.processInfo.environment
        environment["RELAY_PASSWORD"] = "pcap-secret"
        let pid = try spawn(
            try CLITests.binary(),
            [
                "serve", "--listen", "127.0.0.1:\(port)", "--user", "pcap-user", "--password-env", "RELAY_PASSWORD",
                "--pcap", capture,
            ],
            logPath: dir + "/serve.log",
            environment: environment
        )
        let deadline = Date().addingTimeInterval(10)
        while !TestSockets.canConnect(host: "127.0.0.1", port: port) && Date() < deadline { usleep(20_000) }
        let script = """
            import socket, socks
            s = socks.socksocket(socket.AF_INET, socket.SOCK_DGRAM)
            s.set_proxy(socks.SOCKS5, "127.0.0.1", \(port), username="pcap-user", password="pcap-secret")
            s.settimeout(5)
            for i in range(3):
                s.sendto(b"relayed %d" % i, ("127.0.0.1", \(peers.echo.port)))
                data, addr = s.recvfrom(2048)
                print(data.decode())
            s.close()
            """
        let r = try runToCompletion(try ThirdPartyClientTests.python(), ["-c", script], seconds: 30)
        #expect(r.status == 0, "\(r.output)")
        usleep(200_000)
        kill(pid, SIGINT)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let log = (try? String(contentsOfFile: dir + "/serve.log", encoding: .utf8)) ?? ""
        #expect(log.contains("capture: ") && log.contains("written to \(capture)"), "\(log)")

        let frames = try Tshark.frames(
            capture,
            options: ["-d", "tcp.port==\(port),socks"],
            fields: [
                "frame.interface_name", "socks.username", "socks.password", "socks.command", "udp.srcport",
                "udp.dstport", "data.data", "frame.comment", "_ws.malformed",
            ]
        )
        let auth = frames.filter { !$0["socks.username"]!.isEmpty }
        #expect(auth.map { $0["socks.username"]! } == ["pcap-user"])
        #expect(auth.first?["socks.password"] == "***********")
        #expect(frames.contains { $0["socks.command"] == "3" })
        let payloads = (0..<3).map { hex(Array("relayed \($0)".utf8)) }
        // Wire view: each datagram to the relay and back, header included, decoded as SOCKS.
        // (The test's own connect to see the port open is connection r1: PySocks is r2.)
        let wire = frames.filter { $0["frame.interface_name"] == "socksdeck-r2-wire" && !$0["udp.srcport"]!.isEmpty }
        #expect(wire.count == 6)
        #expect(wire.map { $0["data.data"]! }.sorted() == (payloads + payloads).sorted())
        // Inner view: the relay's outbound socket to the echo target and back, plain UDP.
        let inner = frames.filter { $0["frame.interface_name"] == "socksdeck-r2-inner" }
        #expect(inner.count == 6)
        #expect(inner.filter { $0["udp.dstport"] == "\(peers.echo.port)" }.count == 3)
        #expect(inner.filter { $0["udp.srcport"] == "\(peers.echo.port)" }.count == 3)
        #expect(inner.map { $0["data.data"]! }.sorted() == (payloads + payloads).sorted())
        #expect(frames.contains { $0["frame.comment"] == "the client closed the control connection" })
        #expect(frames.allSatisfy { $0["_ws.malformed"]!.isEmpty })
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: capture)))
        #expect(!bytes.contains(subsequence: Array("pcap-secret".utf8)))
    }
}
