import Foundation
import Socks5
import Testing
import UDPChecks

#if canImport(Glibc)
import Glibc
#endif

/// `socksdeck forward` with real applications (dig, chronyd as an NTP client, ngtcp2's QUIC client)
/// through real proxies (Dante, `socksdeck serve`) to real services (dnsmasq, chronyd, gtlsserver).
@Suite(.tags(.peers), .needsPeers, .serialized) struct ForwardTests {
    /// `socksdeck forward … --json` in the background, running once every forward listens.
    final class Forwarder {
        let process: PeerProcess

        init(_ arguments: [String], listening count: Int) throws {
            process = try PeerProcess(
                name: "forward",
                executable: try CLITests.binary(),
                arguments: ["forward"] + arguments + ["--json"],
                logPath: try makeTemporaryDirectory("forward") + "/log"
            )
            let deadline = Date().addingTimeInterval(10)
            while events("listening").count < count {
                guard process.isRunning, Date() < deadline else {
                    throw PeerError.failed("forward did not start: \(process.log)")
                }
                usleep(20_000)
            }
        }

        func events(_ kind: String) -> [[String: Any]] {
            CLITests.jsonLines(process.log).filter { $0["event"] as? String == kind }
        }

        /// Stops it as Ctrl-C would and returns the flows as they closed.
        func stop() -> [[String: Any]] {
            process.stop()
            return events("flow_closed").compactMap { $0["flow"] as? [String: Any] }
        }
    }

    static func dig(
        _ server: String,
        _ port: UInt16,
        _ name: String,
        type: String = "A",
        tries: Int = 1
    ) throws -> String {
        let r = try runToCompletion(
            PeerProcess.which("dig") ?? "/usr/bin/dig",
            ["@\(server)", "-p", "\(port)", name, type, "+short", "+tries=\(tries)", "+timeout=2", "+norecurse"],
            seconds: 30
        )
        return r.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func localPort() throws -> UInt16 { try UDPServices.freeUDPPort(hosts: ["127.0.0.1", "::1"]) }

    @Test func digThroughDanteGetsTheAnswerOverIPv4AndIPv6AndToANameTarget() throws {
        let (peers, services) = (try TestPeers.shared(), try UDPServices.shared())
        let (v4, v6, named) = (try Self.localPort(), try Self.localPort(), try Self.localPort())
        let forwarder = try Forwarder(
            [
                "127.0.0.1:\(peers.danteNoAuth.port)",
                "127.0.0.1:\(v4)=127.0.0.1:\(services.dnsPort)",
                "[::1]:\(v6)=[::1]:\(services.dnsPort)",
                "127.0.0.1:\(named)=localhost:\(services.dnsPort)",
            ],
            listening: 3
        )
        #expect(try Self.dig("127.0.0.1", v4, "socksdeck.test") == "127.0.0.9")
        #expect(try Self.dig("::1", v6, "socksdeck.test", type: "AAAA") == "::9")
        #expect(try Self.dig("127.0.0.1", named, "www.socksdeck.test").hasSuffix("127.0.0.9"))
        let flows = forwarder.stop()
        #expect(flows.count == 3, "\(forwarder.process.log)")
        for flow in flows {
            #expect(flow["datagramsFromClient"] as? Int == 1)
            #expect(flow["datagramsForwarded"] as? Int == 1)
            #expect(flow["datagramsFromTarget"] as? Int == 1)
            #expect((flow["associations"] as? [Int])?.count == 1)
        }
    }

    @Test func digThroughSocksdeckServeAndTheSummaryInWords() throws {
        let services = try UDPServices.shared()
        let relay = try CLITests.serve([])
        defer { relay.process.stop() }
        let local = try Self.localPort()
        let forward = try PeerProcess(
            name: "forward",
            executable: try CLITests.binary(),
            arguments: ["forward", "127.0.0.1:\(relay.port)", "127.0.0.1:\(local)=127.0.0.1:\(services.dnsPort)"],
            logPath: try makeTemporaryDirectory("forward") + "/log"
        )
        let deadline = Date().addingTimeInterval(10)
        while !forward.log.contains("listening") && Date() < deadline { usleep(20_000) }
        #expect(try Self.dig("127.0.0.1", local, "socksdeck.test") == "127.0.0.9")
        #expect(try Self.dig("127.0.0.1", local, "nothing.socksdeck.test").isEmpty)
        forward.stop()
        let log = forward.log
        #expect(log.contains("flow_opened"))
        // Each dig is a new client (a new source port): two flows, each answered once.
        #expect(log.contains("2 flow(s)"), "\(log)")
        #expect(log.components(separatedBy: "1 from the client, 1 forwarded, 1 from the target, 0 dropped").count == 3)
        #expect(relay.process.isRunning)
    }

    @Test func chronydAsAnNTPClientGetsTheTimeThroughDante() throws {
        let (peers, services) = (try TestPeers.shared(), try UDPServices.shared())
        let local = try Self.localPort()
        let forwarder = try Forwarder(
            ["127.0.0.1:\(peers.danteNoAuth.port)", "127.0.0.1:\(local)=127.0.0.1:\(services.ntpPort)"],
            listening: 1
        )
        // -Q: ask the server once and print the offset, never touch the clock; no configuration file.
        let r = try runToCompletion(
            PeerProcess.which("chronyd") ?? "/usr/sbin/chronyd",
            ["-Q", "-t", "10", "-f", "/dev/null", "server 127.0.0.1 port \(local) iburst maxsamples 1"],
            seconds: 30
        )
        let flows = forwarder.stop()
        #expect(r.output.contains("System clock wrong by"), "\(r.output)")
        #expect((flows.first?["datagramsFromTarget"] as? Int ?? 0) >= 1, "\(forwarder.process.log)")
    }

    @Test func aQUICHandshakeAndRequestThroughDante() throws {
        let (peers, quic) = (try TestPeers.shared(), try QUICServer.shared())
        let local = try Self.localPort()
        let forwarder = try Forwarder(
            ["127.0.0.1:\(peers.danteNoAuth.port)", "127.0.0.1:\(local)=127.0.0.1:\(quic.port)"],
            listening: 1
        )
        let r = try runToCompletion(
            PeerProcess.which("gtlsclient") ?? "/usr/bin/gtlsclient",
            ["--exit-on-all-streams-close", "--timeout=5s", "127.0.0.1", "\(local)", "https://localhost/"],
            seconds: 30
        )
        let flows = forwarder.stop()
        #expect(r.status == 0)
        #expect(r.output.contains("QUIC handshake has completed"), "\(r.output.suffix(2000))")
        #expect(r.output.contains("http: stream 0x0 submit request headers"))
        #expect((flows.first?["datagramsFromTarget"] as? Int ?? 0) >= 3, "\(forwarder.process.log)")
    }

    @Test func aDanteRestartedInTheMiddleIsSaidAndTheNextQuerySucceeds() throws {
        let services = try UDPServices.shared()
        let dante = try DanteServer(configuration: "sockd-noauth.conf")
        let local = try Self.localPort()
        let forwarder = try Forwarder(
            ["127.0.0.1:\(dante.port)", "127.0.0.1:\(local)=127.0.0.1:\(services.dnsPort)", "--idle-timeout", "60"],
            listening: 1
        )
        // One client throughout (its own socket), as an application that keeps its port.
        let fd = TestSockets.datagram(.ipv4, receiveTimeoutMilliseconds: 3000)
        defer { close(fd) }
        let forward = IPEndpoint.loopback(.ipv4, local)
        func query(_ id: UInt16) -> Bool {
            let request = (try? DNSQuery(id: id, name: "socksdeck.test", type: .a).encoded()) ?? []
            var buffer = [UInt8](repeating: 0, count: 1500)
            for _ in 0..<4 {
                _ = forward.withSockaddr { sendto(fd, request, request.count, 0, $0, $1) }
                let n = recv(fd, &buffer, buffer.count, 0)
                if n >= 2, buffer[0] == UInt8(id >> 8), buffer[1] == UInt8(id & 0xFF) { return true }
            }
            return false
        }
        #expect(query(1))
        dante.stop()
        let restarted = try DanteServer(configuration: "sockd-noauth.conf", port: dante.port)
        defer { restarted.stop() }
        // The control connection's end reaches the forward first; the next datagram reopens.
        let deadline = Date().addingTimeInterval(10)
        while forwarder.events("association_lost").isEmpty && Date() < deadline { usleep(50_000) }
        #expect(query(2), "\(forwarder.process.log)")
        let lost = forwarder.events("association_lost")
        let flows = forwarder.stop()
        #expect(lost.count == 1, "\(forwarder.process.log)")
        #expect((lost.first?["message"] as? String)?.contains("the next datagram opens another") == true)
        #expect((flows.first?["associations"] as? [Int])?.count == 2)
    }

    @Test func threeHundredClientsAgainstABoundOf256() throws {
        let services = try UDPServices.shared()
        // 256 control connections from one address at once: over serve's default bound of 64.
        let relay = try CLITests.serve(["--max-negotiating-per-client", "1024"])
        defer { relay.process.stop() }
        let local = try Self.localPort()
        let forwarder = try Forwarder(
            [
                "127.0.0.1:\(relay.port)", "127.0.0.1:\(local)=127.0.0.1:\(services.dnsPort)", "--max-flows", "256",
            ],
            listening: 1
        )
        let forward = IPEndpoint.loopback(.ipv4, local)
        let sockets = (0..<300).map { _ in TestSockets.datagram(.ipv4, receiveTimeoutMilliseconds: 1) }
        defer { for fd in sockets { close(fd) } }
        let request = try DNSQuery(id: 0x2525, name: "socksdeck.test", type: .a).encoded()
        // The first 256 clients, then (once their flows exist) 44 more: sent all at once, a burst of
        // 300 can overflow the socket's receive buffer before the forward reads it.
        func send(_ range: Range<Int>) {
            for fd in sockets[range] { _ = forward.withSockaddr { sendto(fd, request, request.count, 0, $0, $1) } }
        }
        send(0..<256)
        var deadline = Date().addingTimeInterval(20)
        while forwarder.events("flow_opened").count < 256 && Date() < deadline { usleep(20_000) }
        send(256..<300)
        var answered = Set<Int>()
        var buffer = [UInt8](repeating: 0, count: 1500)
        deadline = Date().addingTimeInterval(20)
        while answered.count < 256 && Date() < deadline {
            for (i, fd) in sockets.enumerated() where !answered.contains(i) {
                if recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT)) > 0 { answered.insert(i) }
            }
            usleep(20_000)
        }
        usleep(300_000)
        for (i, fd) in sockets.enumerated() where recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT)) > 0 {
            answered.insert(i)
        }
        #expect(answered == Set(0..<256), "answered \(answered.count): \(forwarder.process.log.suffix(1500))")
        let limit = forwarder.events("limit_reached")
        #expect(limit.count == 1, "\(forwarder.process.log.suffix(3000))")
        #expect((limit.first?["message"] as? String)?.contains("256 flows are open") == true)
        #expect(forwarder.process.isRunning)
        let flows = forwarder.stop()
        #expect(flows.count == 256)
        let stopped = forwarder.events("stopped").first?["message"] as? String
        #expect(stopped == "stopped: 256 flow(s) served, 44 datagram(s) dropped at the flow limit")
    }

    @Test func anIdleFlowClosesWithItsAssociation() throws {
        let (peers, services) = (try TestPeers.shared(), try UDPServices.shared())
        let local = try Self.localPort()
        let forwarder = try Forwarder(
            [
                "127.0.0.1:\(peers.danteNoAuth.port)", "127.0.0.1:\(local)=127.0.0.1:\(services.dnsPort)",
                "--idle-timeout", "0.5",
            ],
            listening: 1
        )
        #expect(try Self.dig("127.0.0.1", local, "socksdeck.test") == "127.0.0.9")
        let deadline = Date().addingTimeInterval(5)
        while forwarder.events("flow_closed").isEmpty && Date() < deadline { usleep(50_000) }
        let closed = forwarder.events("flow_closed")
        _ = forwarder.stop()
        #expect((closed.first?["message"] as? String)?.contains("idle for 500 ms") == true, "\(closed)")
    }

    @Test func badSpecsExit64AndALocalPortInUseExits71() throws {
        for bad in [
            "127.0.0.1:5353", "localhost:5353=127.0.0.1:53", "127.0.0.1:5353=127.0.0.1:0", "127.0.0.1:0=1.2.3.4:53",
        ] {
            let r = try CLITests.run(["forward", "127.0.0.1:1080", bad])
            #expect(r.status == 64, "\(bad): \(r.output)")
            #expect(r.output.contains("LOCAL=TARGET '\(bad)'"), "\(r.output)")
        }
        let noServer = try CLITests.run(["forward", "127.0.0.1:5353=127.0.0.1:53"])
        #expect(noServer.status == 64)
        #expect(noServer.output.contains("name the server first"), "\(noServer.output)")
        let taken = TestSockets.datagram(.ipv4)
        defer { close(taken) }
        let port = TestSockets.localEndpoint(taken)!.port
        let peers = try TestPeers.shared()
        let r = try CLITests.run(["forward", "127.0.0.1:\(peers.danteNoAuth.port)", "127.0.0.1:\(port)=127.0.0.1:53"])
        #expect(r.status == 71, "\(r.output)")
        #expect(r.output.contains("cannot listen on 127.0.0.1:\(port): EADDRINUSE"), "\(r.output)")
    }

    @Test func forwardTablesInTheConfigurationStartWithoutArguments() throws {
        let (peers, services) = (try TestPeers.shared(), try UDPServices.shared())
        let local = try Self.localPort()
        let config = try CLITests.writeConfig(
            """
            [[server]]
            name = "dante"
            address = "127.0.0.1:\(peers.danteNoAuth.port)"

            [[forward]]
            server = "dante"
            local = "127.0.0.1:\(local)"
            target = "127.0.0.1:\(services.dnsPort)"
            idle_timeout_s = 30
            """
        )
        let forwarder = try Forwarder(["--config", config], listening: 1)
        #expect(try Self.dig("127.0.0.1", local, "socksdeck.test") == "127.0.0.9")
        #expect(forwarder.stop().count == 1)
        let broken = try CLITests.writeConfig(
            """
            [[server]]
            name = "dante"
            address = "127.0.0.1:1080"

            [[forward]]
            server = "danté"
            local = "127.0.0.1:5353"
            target = "127.0.0.1:53"
            """
        )
        let r = try CLITests.run(["forward", "--config", broken])
        #expect(r.status == 78)
        #expect(
            r.output.contains("config.toml:6: [[forward]] 127.0.0.1:5353=127.0.0.1:53: no [[server]] is named 'danté'")
        )
    }

    @Test func aForwardsCaptureOpensInTsharkWithTheApplicationsDNSDecoded() throws {
        let (peers, services) = (try TestPeers.shared(), try UDPServices.shared())
        let local = try Self.localPort()
        let capture = try makeTemporaryDirectory("forwardpcap") + "/forward.pcapng"
        let forwarder = try Forwarder(
            [
                "127.0.0.1:\(peers.danteNoAuth.port)", "127.0.0.1:\(local)=127.0.0.1:\(services.dnsPort)",
                "--pcap", capture,
            ],
            listening: 1
        )
        #expect(try Self.dig("127.0.0.1", local, "socksdeck.test") == "127.0.0.9")
        _ = forwarder.stop()
        let rows = try Tshark.run([
            "-r", capture, "-d", "udp.port==\(services.dnsPort),dns", "-Y", "dns.qry.name == \"socksdeck.test\"",
            "-T", "fields", "-e", "frame.interface_id", "-e", "dns.flags.response", "-e", "dns.a",
        ]).split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        // The inner view (the application's datagrams without the SOCKS header) is interface 1.
        let inner = rows.filter { $0.first == "1" }
        #expect(inner.contains { $0.count == 3 && ["0", "False"].contains($0[1]) && $0[2].isEmpty }, "\(rows)")
        #expect(inner.contains { $0.count == 3 && ["1", "True"].contains($0[1]) && $0[2] == "127.0.0.9" }, "\(rows)")
    }

    @Test func aReplyFromAnotherSenderIsDroppedAndCounted() throws {
        // serve relays what any sender sends to its outbound port (endpoint-independent filtering,
        // its default): the forward is what must keep the stranger's datagram from the application.
        let relay = try CLITests.serve([])
        defer { relay.process.stop() }
        let target = TestSockets.datagram(.ipv4, receiveTimeoutMilliseconds: 3000)
        let stranger = TestSockets.datagram(.ipv4)
        let application = TestSockets.datagram(.ipv4, receiveTimeoutMilliseconds: 1000)
        defer { for fd in [target, stranger, application] { close(fd) } }
        let targetPort = TestSockets.localEndpoint(target)!.port
        let local = try Self.localPort()
        let forwarder = try Forwarder(
            ["127.0.0.1:\(relay.port)", "127.0.0.1:\(local)=127.0.0.1:\(targetPort)"],
            listening: 1
        )
        let request = Array("question".utf8)
        _ = IPEndpoint.loopback(.ipv4, local).withSockaddr {
            sendto(application, request, request.count, 0, $0, $1)
        }
        var buffer = [UInt8](repeating: 0, count: 1500)
        var from = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let n = withUnsafeMutablePointer(to: &from) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                recvfrom(target, &buffer, buffer.count, 0, $0, &length)
            }
        }
        #expect(n == request.count)
        // From the stranger first, then the target's own answer, both to the relay's outbound socket.
        for (fd, text) in [(stranger, "injected"), (target, "answer")] {
            let bytes = Array(text.utf8)
            _ = withUnsafePointer(to: &from) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, bytes, bytes.count, 0, $0, length) }
            }
        }
        let received = recv(application, &buffer, buffer.count, 0)
        #expect(received > 0 && String(decoding: buffer[0..<max(received, 0)], as: UTF8.self) == "answer")
        #expect(recv(application, &buffer, buffer.count, 0) < 0, "a second datagram reached the application")
        let flow = forwarder.stop().first
        #expect((flow?["dropped"] as? [String: Int])?["not_from_target"] == 1, "\(forwarder.process.log)")
        #expect(flow?["datagramsFromTarget"] as? Int == 1)
    }

    /// A datagram the application sends that cannot go in one SOCKS5 datagram through the
    /// rendezvous is dropped with its reason (once in the log, every time in the counts); the flow
    /// goes on with the next one.
    @Test func aDatagramTooLargeForTheRendezvousIsDroppedWithItsReason() throws {
        let peers = try TestPeers.shared()
        let local = try Self.localPort()
        let echo = peers.echo.endpoint(.ipv4)
        let forwarder = try Forwarder(
            ["127.0.0.1:\(peers.danteNoAuth.port)", "127.0.0.1:\(local)=\(echo)"],
            listening: 1
        )
        let application = TestSockets.datagram(.ipv4, receiveTimeoutMilliseconds: 3000)
        defer { close(application) }
        var size: Int32 = 1 << 20
        setsockopt(application, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        let forward = IPEndpoint.loopback(.ipv4, local)
        for length in [65_500, 5] {
            let payload = [UInt8](repeating: 0x61, count: length)
            _ = forward.withSockaddr { sendto(application, payload, payload.count, 0, $0, $1) }
        }
        var buffer = [UInt8](repeating: 0, count: 70_000)
        #expect(recv(application, &buffer, buffer.count, 0) == 5, "only the small one comes back")
        let flow = forwarder.stop().first
        #expect((flow?["dropped"] as? [String: Int])?["too_large"] == 1, "\(forwarder.process.log)")
        let said = forwarder.events("dropped").first?["message"] as? String ?? ""
        #expect(
            said.contains(
                "too large for one SOCKS5 datagram (65500 bytes do not fit in one datagram to \(echo) "
                    + "through an IPv4 rendezvous: at most 65497 do"
            ),
            "\(said)"
        )
    }
}
