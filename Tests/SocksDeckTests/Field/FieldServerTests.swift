import CSocks5
import Foundation
import Socks5
import Testing

@testable import SocksDeckEngine
@testable import SocksDeckRelay

/// SocksDeck against servers of the field, each checked against what it is known to do
/// (peers/README.md): the library, the C API, the engine and the probe must be right about them.
@Suite(.tags(.peers), .needsPeers, .serialized) struct FieldServerTests {
    static func probe(
        _ endpoint: IPEndpoint,
        echo: IPEndpoint,
        declare: DeclaredSource = .default
    ) async -> [ProbeFinding.Key: ProbeFinding] {
        var probe = CapabilityProbe(
            server: ServerDefinition(name: "x", host: "\(endpoint.address)", port: endpoint.port, declare: declare),
            endpoint: endpoint,
            echo: echo
        )
        probe.stepTimeout = .milliseconds(600)
        probe.largestPayloadTried = 8_000
        return Dictionary(await probe.findings().map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
    }

    static func engineEcho(
        _ endpoint: IPEndpoint,
        echo: IPEndpoint,
        declare: DeclaredSource = .default
    ) async throws -> Int {
        let engine = SessionEngine(configuration: DeckConfiguration(servers: []))
        let server = ServerDefinition(name: "x", host: "\(endpoint.address)", port: endpoint.port, declare: declare)
        let id = try await engine.open(server: server)
        let settled = await engine.waitUntilSettled(id, timeout: .seconds(5))
        #expect(settled?.state == .associated, "\(String(describing: settled?.state))")
        try await engine.send(id, to: .ip(echo), payload: Array("field".utf8))
        var received = 0
        for _ in 0..<50 {
            received = await engine.snapshot(id)?.counters.datagramsReceived ?? 0
            if received > 0 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        await engine.shutdown()
        return received
    }

    /// #13 case 1: BND 0.0.0.0 over an IPv6 control connection. The family of BND is kept:
    /// datagrams go to 127.0.0.1:P, where the relay listens, never to [::1]:P.
    @Test func asyncioSocksServerAnswersBND0000OverIPv6() async throws {
        let peers = try TestPeers.shared()
        let server = try AsyncioSocksServer(.ipv6)
        defer { server.stop() }
        let echo = peers.echo.endpoint(.ipv4)

        let association = try UDPAssociation.open(server: server.endpoint)
        #expect(association.rendezvous.asReceived.endpoint?.address == .unspecified(.ipv4))
        #expect(association.rendezvous.asUsed.address == .v4(.loopback))
        #expect(association.rendezvous.substitution == .loopbackOfBoundFamily)
        TestSockets.setReceiveTimeout(association.dataSocket, milliseconds: 2000)
        try association.send(Array("v4 relay".utf8), to: .ip(echo))
        var buffer = [UInt8](repeating: 0, count: 64)
        let got = try buffer.withUnsafeMutableBytes { try association.receive(into: $0) }
        #expect(Array(buffer[0..<got.length]) == Array("v4 relay".utf8))
        association.close()

        // The C API writes the IPv4 rendezvous as a sockaddr_in into the IPv6-sized Dst.
        let fd = TestSockets.stream(.ipv6)
        defer { close(fd) }
        let c = CAPI.associate(socket: fd, dstFamily: .ipv6, server: server.endpoint)
        #expect(c.rc == 0 && c.dst?.address == .v4(.loopback) && c.dst?.port != 0, "\(c)")

        #expect(try await Self.engineEcho(server.endpoint, echo: echo) == 1)

        let f = await Self.probe(server.endpoint, echo: echo)
        // What the server sent, apart from what SocksDeck did with it.
        #expect(f["bnd_form"]?.value.hasPrefix("unspecified IPv4") == true, "\(String(describing: f["bnd_form"]))")
        #expect(f["bnd_form"]?.evidence.contains("IPv4 loopback address") == true)
        #expect(f["relay_echo"]?.verdict == .yes, "\(String(describing: f["relay_echo"]))")
        #expect(CapabilityProbe.summary(Array(f.values)).hasPrefix("UDP ✔ relayed"))
    }

    /// #13 case 3: replies go only to the declared address. The default declaration (the data
    /// socket's port) works; the all-zero one gets nothing back, and the probe says why.
    @Test func hpsockdRepliesOnlyToTheDeclaredAddress() async throws {
        let peers = try TestPeers.shared()
        let server = try HPSockd()
        defer { server.stop() }
        let echo = peers.echo.endpoint(.ipv4)
        #expect(try await Self.engineEcho(server.endpoint, echo: echo) == 1)
        #expect(try await Self.engineEcho(server.endpoint, echo: echo, declare: .zero) == 0)
        #expect(try await Self.engineEcho(server.endpoint, echo: echo, declare: .address) == 1)

        let f = await Self.probe(server.endpoint, echo: echo)
        #expect(f["relay_echo"]?.verdict == .yes)
        #expect(f["declared_zero_relayed"]?.verdict == .no)
        #expect(f["declared_zero_relayed"]?.value.contains("replies go only to the declared address") == true)
        #expect(f["declared_zero_relayed"]?.evidence.contains("0/3 echoed") == true)
        #expect(CapabilityProbe.summary(Array(f.values)).contains("replies to declared port only"))

        // Declaring zero, the probe reports that nothing came back instead of "UDP ✔".
        let zero = await Self.probe(server.endpoint, echo: echo, declare: .zero)
        #expect(zero["udp_associate"]?.verdict == .yes && zero["relay_echo"]?.verdict == .no)
        #expect(CapabilityProbe.summary(Array(zero.values)).hasPrefix("UDP accepted, nothing came back"))
    }

    /// #13 case 5: silent truncation to 2,038 bytes (IPv4; 2,026 over IPv6), told from loss.
    @Test(arguments: [AddressFamily.ipv4, .ipv6])
    func v2rayCutsDatagramsSilently(_ family: AddressFamily) async throws {
        let peers = try TestPeers.shared()
        let server = try V2RaySocks()
        defer { server.stop() }
        let f = await Self.probe(family == .ipv4 ? server.v4 : server.v6, echo: peers.echo.endpoint(family))
        let limit = family == .ipv4 ? 2038 : 2026
        #expect(
            f["truncation"]?.verdict == .yes && f["truncation"]?.figure == limit,
            "\(String(describing: f["truncation"]))"
        )
        #expect(f["largest_payload"]?.figure == limit)
        #expect(f["bnd_form"]?.value.contains("the SOCKS port itself") == true)
        #expect(CapabilityProbe.summary(Array(f.values)).contains("cuts to \(limit) B"))
    }

    /// The engine counts a reply that is the beginning of what was sent, shorter, as cut.
    @Test func theEngineCountsCutReplies() async throws {
        let peers = try TestPeers.shared()
        let server = try V2RaySocks()
        defer { server.stop() }
        let engine = SessionEngine(configuration: DeckConfiguration(servers: []))
        let id = try await engine.open(server: ServerDefinition(name: "v2ray", host: "127.0.0.1", port: server.v4.port))
        #expect(await engine.waitUntilSettled(id, timeout: .seconds(5))?.state == .associated)
        var counters = DatagramCounters()
        // One at a time: a reply is compared with the datagram last sent to its sender.
        for (size, replies) in [(4_000, 1), (100, 2)] {
            try await engine.send(id, to: .ip(peers.echo.endpoint(.ipv4)), payload: CapabilityProbe.pattern(size))
            for _ in 0..<100 where counters.datagramsReceived < replies {
                counters = await engine.snapshot(id)?.counters ?? counters
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        #expect(
            counters.datagramsReceived == 2 && counters.truncatedReplies == 1 && counters.truncatedTo == 2038,
            "\(counters)"
        )
        await engine.shutdown()
    }

    /// Dante loses nothing and cuts nothing up to the bound tried: no truncation finding.
    @Test func danteNeitherCutsNorLoses() async throws {
        let peers = try TestPeers.shared()
        let f = await Self.probe(peers.server(.ipv4), echo: peers.echo.endpoint(.ipv4))
        #expect(f["truncation"] == nil && f["largest_payload"]?.figure == 8_000)
        #expect(f["declared_zero_relayed"]?.verdict == .yes)
    }
}

/// The field's behaviours replayed byte for byte by a scripted server, and the CLI's words for them.
@Suite(.tags(.peers), .needsPeers, .serialized) struct FieldBehaviourScriptTests {
    /// asyncio-socks-server's reply to a client on [::1]: `05 00 00 01 00 00 00 00` + port.
    @Test func bnd0000OverIPv6ThroughTheCAPIAndTheEngine() async throws {
        let reply: [UInt8] = [0x05, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0x9C, 0x41]
        // The C API declares [::]:0 for an IPv6 Dst: 3 + 3 + 1 + 16 + 2 = 25 bytes in all.
        let c = ScriptedServer(
            .ipv6,
            script: [.expect(3), .send([0x05, 0x00]), .expect(22), .send(reply), .silent(seconds: 1)]
        )
        let fd = TestSockets.stream(.ipv6)
        defer { close(fd) }
        let outcome = CAPI.associate(socket: fd, dstFamily: .ipv6, server: c.endpoint)
        #expect(outcome.rc == 0 && outcome.dst == IPEndpoint("127.0.0.1:40001")!, "\(outcome)")

        let e = ScriptedServer(
            .ipv6,
            script: [.expect(3), .send([0x05, 0x00]), .expect(22), .send(reply), .silent(seconds: 2)]
        )
        let engine = SessionEngine(configuration: DeckConfiguration(servers: []))
        let id = try await engine.open(server: ServerDefinition(name: "s", host: "::1", port: e.endpoint.port))
        let settled = await engine.waitUntilSettled(id, timeout: .seconds(5))
        #expect(settled?.rendezvous?.asUsed == IPEndpoint("127.0.0.1:40001")!)
        #expect(settled?.rendezvous?.description.contains("IPv4 loopback address") == true)
        await engine.shutdown()
    }

    /// hpsockd's silence with the all-zero declaration: exit 3 with a sentence, not counters only.
    @Test func exit3SaysWhatGotNoReplyThroughWhichRelay() throws {
        let peers = try TestPeers.shared()
        let server = try HPSockd()
        defer { server.stop() }
        let r = try CLITests.run([
            "send", "\(server.endpoint)", "\(peers.echo.endpoint(.ipv4))", "--text", "x",
            "--declare", "zero", "--wait-reply", "300",
        ])
        #expect(r.status == 3, "\(r.output)")
        #expect(
            r.output.contains("no reply within 300 ms from \(peers.echo.endpoint(.ipv4)) through 127.0.0.1:"),
            "\(r.output)"
        )
        #expect(r.output.contains("declared 0.0.0.0:0"), "\(r.output)")
        let ok = try CLITests.run(["send", "\(server.endpoint)", "\(peers.echo.endpoint(.ipv4))", "--text", "x"])
        #expect(ok.status == 0 && ok.output.contains("reply from"), "\(ok.output)")
    }

    /// v2ray answers an IPv6 request over IPv4 with an IPv4 BND: associate says so, and --json
    /// carries both families.
    @Test func associateSaysWhenTheServerAnsweredAnotherFamily() throws {
        let server = try V2RaySocks()
        defer { server.stop() }
        let r = try CLITests.run(["associate", "\(server.v4)", "--family", "6", "--hold", "0.2"])
        #expect(r.output.contains("IPv6 asked for, the server answered with an IPv4 BND"), "\(r.output)")
        let j = try CLITests.run(["associate", "\(server.v4)", "--family", "6", "--hold", "0.2", "--json"])
        #expect(
            j.output.contains(#""requestedFamily":"IPv6""#) && j.output.contains(#""receivedFamily":"IPv4""#),
            "\(j.output)"
        )
    }
}
