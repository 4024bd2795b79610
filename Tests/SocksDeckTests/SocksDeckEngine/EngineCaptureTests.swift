import Foundation
import Socks5
import Testing

@testable import SocksDeckEngine

/// The engine's captures, read back by tshark (Wireshark's own dissectors): an association
/// through Dante that authenticated with RFC 1929, sent datagrams to the echo server and was
/// closed, over IPv4 and IPv6.
@Suite(.tags(.peers), .needsPeers) struct EngineCaptureTests {
    struct Captured {
        var path: String
        var payloads: [[UInt8]]
        var serverPort: UInt16
        var echo: IPEndpoint
        var summary: CaptureWriteSummary
    }

    static func captureThroughDante(
        _ family: AddressFamily = .ipv4,
        ring: Int = 1 << 20,
        datagrams: Int = 3
    ) async throws -> Captured {
        let peers = try TestPeers.shared()
        let server = ServerDefinition(
            name: "dante-auth",
            host: family == .ipv4 ? "127.0.0.1" : "::1",
            port: peers.danteUserPass.port,
            credentials: TestPeers.credentials
        )
        let engine = SessionEngine(
            configuration: DeckConfiguration(servers: [server]),
            capture: .ring(bytesPerAssociation: ring)
        )
        let id = try await engine.open(server: "dante-auth")
        #expect(await engine.waitUntilSettled(id, timeout: .seconds(5))?.state == .associated)
        let echo = peers.echo.endpoint(family)
        var payloads: [[UInt8]] = []
        for i in 0..<datagrams {
            let payload = Array("capture-\(i)-".utf8) + [UInt8](repeating: UInt8(i), count: 10 * (i + 1))
            payloads.append(payload)
            try await engine.send(id, to: .ip(echo), payload: payload)
            // One at a time: the inner view's order is then the order sent.
            _ = await SessionEngineTests.eventually(engine, id) { $0.counters.datagramsReceived == i + 1 }
        }
        await engine.close(id)
        _ = await SessionEngineTests.eventually(engine, id) { $0.state.isFinal }
        let path = try makeTemporaryDirectory("capture") + "/dante.pcapng"
        let summary = try await engine.writeCapture(id, to: path)
        await engine.shutdown()
        return Captured(path: path, payloads: payloads, serverPort: server.port, echo: echo, summary: summary)
    }

    static func decodeAs(_ c: Captured) -> [String] { ["-d", "tcp.port==\(c.serverPort),socks"] }

    static let fields = [
        "frame.interface_id", "frame.time_epoch", "frame.comment", "socks.username", "socks.password",
        "socks.command", "udp.length", "socks.dstport", "data.data", "ip.src", "ipv6.src", "udp.srcport",
        "udp.dstport", "tcp.flags.fin", "tcp.srcport", "_ws.malformed", "_ws.expert.severity",
    ]

    static func frames(_ c: Captured) throws -> [[String: String]] {
        let checksums = ["tcp", "udp", "ip"].flatMap { ["-o", "\($0).check_checksum:TRUE"] }
        return try Tshark.frames(c.path, options: decodeAs(c) + checksums, fields: fields)
    }

    @Test(arguments: [AddressFamily.ipv4, .ipv6])
    func tsharkDecodesTheHandshakeTheDatagramsAndTheInnerView(_ family: AddressFamily) async throws {
        let c = try await Self.captureThroughDante(family)
        let frames = try Self.frames(c)
        #expect(frames.count == c.summary.packets)
        // The handshake: greeting, RFC 1929 with the password masked, UDP ASSOCIATE and its reply.
        let auth = frames.filter { !$0["socks.username"]!.isEmpty }
        #expect(auth.count == 1)
        #expect(auth.first?["socks.username"] == TestPeers.username)
        #expect(auth.first?["socks.password"] == String(repeating: "*", count: TestPeers.password.count))
        #expect(frames.filter { $0["socks.command"] == "3" }.count == 1)
        #expect(frames.filter { $0["frame.comment"]!.contains("UDP ASSOCIATE reply: BND") }.count == 1)
        // Every datagram on the wire, SOCKS5 header included, decoded as SOCKS over UDP.
        let wire = frames.filter { $0["frame.interface_id"] == "0" && !$0["udp.length"]!.isEmpty }
        #expect(wire.count == 2 * c.payloads.count)
        let header = family == .ipv4 ? 10 : 22
        for (i, payload) in c.payloads.enumerated() where wire.count == 2 * c.payloads.count {
            for frame in wire[(2 * i)...(2 * i + 1)] {
                #expect(frame["udp.length"] == "\(8 + header + payload.count)")
                #expect(frame["socks.dstport"] == "\(c.echo.port)")
                #expect(frame["data.data"] == hex(payload))
            }
        }
        // The inner view: the same payloads between the data socket and the echo server itself.
        let inner = frames.filter { $0["frame.interface_id"] == "1" }
        #expect(inner.count == 2 * c.payloads.count)
        let source = family == .ipv4 ? "ip.src" : "ipv6.src"
        for (i, payload) in c.payloads.enumerated() where inner.count == 2 * c.payloads.count {
            #expect(inner[2 * i]["udp.dstport"] == "\(c.echo.port)")
            #expect(inner[2 * i + 1]["udp.srcport"] == "\(c.echo.port)")
            #expect(inner[2 * i + 1][source] == "\(c.echo.address)")
            #expect(inner[2 * i]["data.data"] == hex(payload) && inner[2 * i + 1]["data.data"] == hex(payload))
        }
        // The close, and why, on SocksDeck's FIN (the first, from the client's port).
        let fins = frames.filter { $0["tcp.flags.fin"] == "1" || $0["tcp.flags.fin"] == "True" }
        #expect(fins.count == 2)
        #expect(fins.first?["tcp.srcport"] != "\(c.serverPort)")
        #expect(fins.first?["frame.comment"]?.contains("closed by SocksDeck: closed by the user") == true)
        // Time never goes back; no packet is malformed or carries a bad checksum.
        let times = frames.compactMap { Double($0["frame.time_epoch"]!) }
        #expect(times.count == frames.count)
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(frames.allSatisfy { $0["_ws.malformed"]!.isEmpty })
        // 6291456 is Wireshark's PI_WARN: a bad checksum, a malformed field, a TCP anomaly.
        #expect(frames.allSatisfy { (Int($0["_ws.expert.severity"]!) ?? 0) < 6_291_456 }, "\(frames)")
        // The password is nowhere in the file.
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: c.path)))
        #expect(!bytes.contains(subsequence: Array(TestPeers.password.utf8)))
        #expect(bytes.contains(subsequence: Array(TestPeers.username.utf8)))
    }

    /// A small ring keeps the handshake whole and the latest datagrams, and marks the gap.
    @Test func aSmallRingKeepsTheHandshakeAndTheLatestDatagrams() async throws {
        let c = try await Self.captureThroughDante(ring: 400, datagrams: 8)
        #expect(c.summary.droppedFromRing > 0)
        let frames = try Self.frames(c)
        #expect(frames.filter { !$0["socks.username"]!.isEmpty || $0["socks.command"] == "3" }.count == 2)
        #expect(frames.filter { $0["frame.comment"]!.contains("capture ring (400 bytes) let") }.count == 1)
        let inner = frames.filter { $0["frame.interface_id"] == "1" }.map { $0["data.data"]! }
        #expect(inner.contains(hex(c.payloads.last!)))
        #expect(!inner.contains(hex(c.payloads.first!)))
    }

    @Test func anEngineWithoutARingSaysItKeepsNoCapture() async throws {
        let engine = SessionEngine(configuration: DeckConfiguration(servers: []))
        await #expect(throws: EngineError.self) { try await engine.writeCapture(AssociationID(1), to: "/dev/null") }
        await engine.shutdown()
    }
}

func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

extension Array where Element == UInt8 {
    func contains(subsequence needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return false }
        return (0...(count - needle.count)).contains { self[$0..<$0 + needle.count].elementsEqual(needle) }
    }
}

/// `probe --pcap`: every connection the capability probe makes to Dante (RFC 1929), and its
/// associations (the engine's, captured by the engine into the same file), as tshark reads them.
@Suite(.tags(.peers), .needsPeers) struct ProbeCaptureTests {
    @Test func theProbesConnectionsAndDatagramsAreInTheCapture() async throws {
        let peers = try TestPeers.shared()
        let path = try makeTemporaryDirectory("probe-capture") + "/probe.pcapng"
        let file = try CaptureFile(path: path)
        let endpoint = IPEndpoint(.v4(.loopback), port: peers.danteUserPass.port)
        var probe = CapabilityProbe(
            server: ServerDefinition(
                name: "dante-auth",
                host: "127.0.0.1",
                port: endpoint.port,
                credentials: TestPeers.credentials
            ),
            endpoint: endpoint,
            echo: peers.echo.endpoint(.ipv4)
        )
        probe.stepTimeout = .milliseconds(600)
        probe.largestPayloadTried = 2_000
        probe.capture = ProbeCapture(sink: file)
        let findings = await probe.findings(capture: .file(file))
        file.finish()
        #expect(findings.first { $0.key == "relay_echo" }?.verdict == .yes)
        let frames = try Tshark.frames(
            path,
            options: ["-d", "tcp.port==\(endpoint.port),socks"],
            fields: [
                "frame.interface_description", "socks.username", "socks.password", "socks.command", "udp.length",
                "socks.dstport", "frame.time_epoch", "_ws.malformed", "tcp.flags.syn", "tcp.flags.ack",
            ]
        )
        // Each connection is a stream of its own, named for what it tried; each association for
        // its number and server.
        let streams = Set(frames.map { $0["frame.interface_description"]! })
        for what in ["method offer 05 01 00", "method offer 05 01 02"] {
            #expect(streams.contains { $0.hasPrefix("probe of dante-auth (\(endpoint)): \(what): ") }, "\(streams)")
        }
        #expect(streams.contains { $0.hasPrefix("#1 via dante-auth (127.0.0.1:\(endpoint.port))") }, "\(streams)")
        let syns = frames.filter { ($0["tcp.flags.syn"] == "1" || $0["tcp.flags.syn"] == "True") }
        #expect(syns.count >= 2 * 5)
        let auth = frames.filter { !$0["socks.username"]!.isEmpty }
        #expect(!auth.isEmpty && auth.allSatisfy { $0["socks.password"] == "*********" })
        #expect(frames.filter { $0["socks.command"] == "3" }.count >= 2)
        // The echo datagrams on the wire, decoded as SOCKS over UDP with the echo target's port.
        let echoed = frames.filter { $0["socks.dstport"] == "\(peers.echo.port)" && !$0["udp.length"]!.isEmpty }
        #expect(echoed.count >= 10)
        #expect(frames.allSatisfy { $0["_ws.malformed"]!.isEmpty })
        let times = frames.compactMap { Double($0["frame.time_epoch"]!) }
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 <= $1 })
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(!bytes.contains(subsequence: Array(TestPeers.password.utf8)))
    }
}
