import Foundation
import NIOPosix
import Socks5
import Synchronization
import Testing

@testable import SocksDeckEngine
@testable import SocksDeckRelay

/// `socksdeck probe`'s findings against real servers, each checked against what that server was
/// seen to do on the wire.
@Suite(.tags(.peers), .needsPeers, .serialized) struct CapabilityProbeTests {
    static func findings(
        _ endpoint: IPEndpoint,
        echo: IPEndpoint?,
        credentials: Credentials? = nil
    ) async -> [ProbeFinding.Key: ProbeFinding] {
        var probe = CapabilityProbe(
            server: ServerDefinition(
                name: "x",
                host: "\(endpoint.address)",
                port: endpoint.port,
                credentials: credentials
            ),
            endpoint: endpoint,
            echo: echo
        )
        probe.stepTimeout = .milliseconds(600)
        return Dictionary(uniqueKeysWithValues: await probe.findings().map { ($0.key, $0) })
    }

    @Test func dante() async throws {
        let peers = try TestPeers.shared()
        let f = await Self.findings(peers.server(.ipv4), echo: peers.echo.endpoint(.ipv4))
        // Refusing a login is no fault of a server that needs none (issue 29): said, not marked ✘.
        #expect(f["method_none"]?.verdict == .yes && f["method_userpass"]?.verdict == .info)
        #expect(
            f["method_userpass"]?.value == "no (FF): it needs no login",
            "\(String(describing: f["method_userpass"]))"
        )
        #expect(f["udp_associate"]?.verdict == .yes)
        // Always a concrete BND, a new port per association, of the family declared.
        #expect(f["bnd_form"]?.value == "concrete IPv4")
        #expect(f["udp_associate_ipv6"]?.verdict == .yes && f["udp_associate_ipv6"]?.value.contains("[::1]") == true)
        #expect(f["relay_echo"]?.verdict == .yes)
        // The first datagram locks the source port; FRAG != 0 dropped; relay closed with control.
        #expect(f["source_port_locking"]?.verdict == .yes)
        #expect(f["frag_dropped"]?.verdict == .yes)
        #expect(f["relay_dies_with_control"]?.verdict == .yes)
        // Payloads up to 65,000 bytes are relayed.
        #expect(f["largest_payload"]?.value == "65000 bytes or more")
        // BIND not permitted by the reference rules: 05 02.
        #expect(f["bind"]?.value.contains("S5_EPERM") == true, "\(String(describing: f["bind"]))")
        #expect(f["connect"]?.verdict != .no)
    }

    /// Each finding reaches the progress callback when it is established, in the order of the
    /// result: what `socksdeck probe` prints as it goes.
    @Test func everyFindingIsReportedAsItIsEstablished() async throws {
        let peers = try TestPeers.shared()
        let endpoint = peers.server(.ipv4)
        var probe = CapabilityProbe(
            server: ServerDefinition(name: "x", host: "\(endpoint.address)", port: endpoint.port),
            endpoint: endpoint,
            echo: peers.echo.endpoint(.ipv4)
        )
        probe.stepTimeout = .milliseconds(600)
        let reported = Reported()
        let findings = await probe.findings { f in reported.add(f) }
        let reportedFindings = reported.all
        #expect(reportedFindings.map(\.0) == findings)
        // Not all at the end: the first came well before the last (the relay checks take time).
        let spread = (reportedFindings.last?.1 ?? Date()).timeIntervalSince(reportedFindings.first?.1 ?? Date())
        #expect(findings.count > 10 && spread > 0.05, "\(findings.count) findings over \(spread) s")
    }

    /// The probe is a client of the engine: its associations are the engine's while it runs (each
    /// datagram counted there), forgotten when it is done; a server configured with a small receive
    /// buffer for many associations still has its payloads searched up to the probe's bound.
    @Test func theProbesAssociationsAreTheEnginesOwn() async throws {
        let peers = try TestPeers.shared()
        let endpoint = peers.server(.ipv4)
        var server = ServerDefinition(name: "small", host: "\(endpoint.address)", port: endpoint.port)
        server.receiveBufferBytes = 2_048
        var probe = CapabilityProbe(server: server, endpoint: endpoint, echo: peers.echo.endpoint(.ipv4))
        probe.stepTimeout = .milliseconds(600)
        probe.largestPayloadTried = 8_000
        let engine = SessionEngine(configuration: DeckConfiguration(servers: []))
        let seen = SeenAssociations()
        let findings = try await engine.run(probe) { f in
            guard f.key == .relayEcho else { return }
            seen.note(engine)
        }
        await seen.done()
        let during = seen.snapshots
        #expect(during.contains { $0.serverName == "small" && $0.counters.datagramsReceived >= 5 }, "\(during)")
        #expect(await engine.snapshots().isEmpty, "the probe forgets its associations")
        let f = Dictionary(uniqueKeysWithValues: findings.map { ($0.key, $0) })
        #expect(f[.largestPayload]?.value == "8000 bytes or more", "\(String(describing: f[.largestPayload]))")
        await engine.shutdown()
    }

    @Test func danteWithUsernameAndPassword() async throws {
        let peers = try TestPeers.shared()
        let f = await Self.findings(
            peers.server(.ipv4, auth: true),
            echo: peers.echo.endpoint(.ipv4),
            credentials: TestPeers.credentials
        )
        #expect(f["method_none"]?.verdict == .no && f["method_userpass"]?.verdict == .yes)
        #expect(f["udp_associate"]?.verdict == .yes && f["relay_echo"]?.verdict == .yes)
    }

    @Test func microsocksHasNoUDP() async throws {
        let peers = try TestPeers.shared()
        let f = await Self.findings(.loopback(.ipv4, peers.microsocksPort), echo: peers.echo.endpoint(.ipv4))
        #expect(f["udp_associate"]?.verdict == .no && f["udp_associate"]?.value.contains("S5_EOPNOTSUPP") == true)
        #expect(f["connect"]?.verdict == .yes)
        #expect(f["relay"]?.verdict == .skipped)
    }

    @Test func shadowsocksLocal() async throws {
        let peers = try TestPeers.shared()
        let ss = try ShadowsocksPair()
        defer { ss.stop() }
        let f = await Self.findings(.loopback(.ipv4, ss.localPort), echo: peers.echo.endpoint(.ipv4))
        // UDP on its own SOCKS port, no source checks, the relay survives the control
        // connection, a payload limit of 2,739 bytes, the truncated 4-byte REP 7.
        #expect(f["udp_associate"]?.verdict == .yes)
        #expect(f["bnd_form"]?.value.contains("the SOCKS port itself") == true, "\(String(describing: f["bnd_form"]))")
        #expect(f["source_port_locking"]?.verdict == .no)
        #expect(f["relay_dies_with_control"]?.verdict == .no)
        #expect(f["largest_payload"]?.value == "2739 bytes", "\(String(describing: f["largest_payload"]))")
        // The REP byte came before the cut: REP 7's own code, and words that say it was cut short.
        #expect(f["bind"]?.value.contains("S5_EOPNOTSUPP") == true, "\(String(describing: f["bind"]))")
        #expect(f["bind"]?.evidence.contains("cut short") == true, "\(String(describing: f["bind"]))")
    }

    @Test func socksDecksOwnRelay() async throws {
        let peers = try TestPeers.shared()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let relay = try await RelayServer.start(RelayConfiguration(listen: [.loopback(.ipv4, 0)]), group: group)
        let f = await Self.findings(relay.listening[0], echo: peers.echo.endpoint(.ipv4))
        #expect(f["bnd_form"]?.value == "concrete IPv4")
        #expect(f["source_port_locking"]?.verdict == .yes && f["frag_dropped"]?.verdict == .yes)
        #expect(f["relay_dies_with_control"]?.verdict == .yes)
        #expect(f["largest_payload"]?.value == "65000 bytes or more")
        #expect(f["bind"]?.value.contains("S5_EOPNOTSUPP") == true)
        await relay.stop()
        try await group.shutdownGracefully()
    }
}

/// The findings the progress callback saw, with when (it runs on the engine's loop).
final class Reported: @unchecked Sendable {
    private let lock = NSLock()
    private var findings: [(ProbeFinding, Date)] = []
    func add(_ f: ProbeFinding) { lock.withLock { findings.append((f, Date())) } }
    var all: [(ProbeFinding, Date)] { lock.withLock { findings } }
}

/// ss-server and ss-local (shadowsocks-libev) on free loopback ports, for its SOCKS5 quirks.
final class ShadowsocksPair {
    let localPort: UInt16
    private let server: PeerProcess
    private let local: PeerProcess

    init() throws {
        let serverPort = TestSockets.freePort()
        localPort = TestSockets.freePort()
        let dir = try makeTemporaryDirectory("ss")
        let common = ["-k", "socksdeck-test", "-m", "chacha20-ietf-poly1305", "-u"]
        server = try PeerProcess(
            name: "ss-server",
            executable: "ss-server",
            arguments: ["-s", "127.0.0.1", "-p", "\(serverPort)"] + common,
            logPath: dir + "/ss-server.log"
        )
        local = try PeerProcess(
            name: "ss-local",
            executable: "ss-local",
            arguments: ["-s", "127.0.0.1", "-p", "\(serverPort)", "-b", "127.0.0.1", "-l", "\(localPort)"] + common,
            logPath: dir + "/ss-local.log"
        )
        try server.waitUntilListening(port: serverPort)
        try local.waitUntilListening(port: localPort)
    }

    func stop() {
        local.stop()
        server.stop()
    }
}

/// What the probe says of servers no real implementation would be, and that it ends on their
/// silence: a mock complements the real servers above.
@Suite(.tags(.peers), .needsPeers) struct CapabilityProbeOddServerTests {
    /// A SOCKS4 answer to the first greeting, then silence on every other connection (accepted
    /// by the kernel, never read): each step ends at its own deadline.
    @Test func aSOCKS4AnswerAndThenSilence() async throws {
        let server = ScriptedServer(script: [.expect(3), .send([0x04, 0x5A])])
        var probe = CapabilityProbe(
            server: ServerDefinition(name: "odd", host: "127.0.0.1", port: server.endpoint.port),
            endpoint: server.endpoint,
            echo: nil
        )
        probe.stepTimeout = .milliseconds(300)
        let f = Dictionary(uniqueKeysWithValues: await probe.findings().map { ($0.key, $0) })
        #expect(f[.methodNone]?.verdict == .no && f[.methodNone]?.value == "not SOCKS5 (04 5a)")
        #expect(f[.methodUserPass]?.value == "no reply", "\(String(describing: f[.methodUserPass]))")
        #expect(f[.udpAssociate]?.verdict == .no && f[.udpAssociate]?.value.hasPrefix("ETIMEDOUT") == true)
        #expect(f[.relay]?.verdict == .skipped)
        #expect(f[.unreachable] == nil)
    }

    /// A server that grants UDP ASSOCIATE and hangs up at once (peers/hangup_relay.py; its relay
    /// keeps working): the probe says the server ended the control connection, and when.
    @Test func aServerThatHangsUpAfterTheGrantIsSaidToHaveDoneSo() async throws {
        let peers = try TestPeers.shared()
        let port = TestSockets.freePort()
        let relay = try PeerProcess(
            name: "hangup_relay",
            executable: "python3",
            arguments: [Repository.path("peers/hangup_relay.py"), "\(port)"],
            logPath: try makeTemporaryDirectory("hangup") + "/log"
        )
        defer { relay.stop() }
        try relay.waitUntilListening(port: port)
        var probe = CapabilityProbe(
            server: ServerDefinition(name: "hangup", host: "127.0.0.1", port: port),
            endpoint: .loopback(.ipv4, port),
            echo: peers.echo.endpoint(.ipv4)
        )
        probe.stepTimeout = .milliseconds(500)
        let f = Dictionary(uniqueKeysWithValues: await probe.findings().map { ($0.key, $0) })
        #expect(f[.udpAssociate]?.verdict == .yes)
        let keeps = try #require(f[.serverKeepsControl], "\(f.keys)")
        #expect(keeps.verdict == .no)
        #expect(keeps.value.hasPrefix("no: the server closed the control connection (EOF) "), "\(keeps.value)")
        #expect(keeps.value.hasSuffix(" after granting UDP ASSOCIATE"), "\(keeps.value)")
        #expect(f[.relayDiesWithControl]?.evidence.contains("after the server closed") == true)
        // What goes through an association the server ended is not measured, nor said to be lost.
        #expect(f[.relay]?.evidence.contains("the server ended the association") == true, "\(f.keys)")
        #expect(f[.relayEcho]?.value != "nothing came back", "\(String(describing: f[.relayEcho]))")
        // It picks "no authentication" when only username/password is offered: said in words.
        #expect(
            f[.methodUserPass]?.value
                == "no: it picked no authentication (00), which was not offered (RFC 1928 allows only an offered "
                + "method or FF)",
            "\(String(describing: f[.methodUserPass]))"
        )
    }

    /// A server whose reply names a rendezvous where nothing listens (peers/fixed_bnd_server.py):
    /// the probe, seeing nothing echoed, asks from a socket that sees ICMP errors and says so.
    @Test func aRendezvousWhereNothingListensIsSaidWithItsICMPError() async throws {
        let peers = try TestPeers.shared()
        let server = try FixedRendezvousServer()
        defer { server.stop() }
        let (port, closed) = (server.port, server.rendezvousPort)
        var probe = CapabilityProbe(
            server: ServerDefinition(name: "fixed", host: "127.0.0.1", port: port),
            endpoint: .loopback(.ipv4, port),
            echo: peers.echo.endpoint(.ipv4)
        )
        probe.stepTimeout = .milliseconds(300)
        let f = Dictionary(uniqueKeysWithValues: await probe.findings().map { ($0.key, $0) })
        #expect(f[.relayEcho]?.verdict == .no)
        let rendezvous = try #require(f[.rendezvousAnswers], "\(f.keys)")
        #expect(rendezvous.verdict == .no)
        #expect(rendezvous.value == "no: ICMP port unreachable")
        #expect(
            rendezvous.evidence.contains(
                "drew ICMP port unreachable from 127.0.0.1: nothing listens at 127.0.0.1:\(closed)"
            )
        )
    }

    /// Issue 27: a server reached over IPv6 whose reply names 0.0.0.0:P. With the server's IPv4
    /// address known (its name had both), the probe uses it as the engine does, instead of failing
    /// with S5_EBNDFAMILY; without it, it cannot. (Not over loopback: there ::1 stands for 127.0.0.1.)
    @Test func theProbeAppliesTheEnginesRendezvousRule() throws {
        let server = ServerDefinition(name: "both", host: "dual.example", port: 1080)
        let endpoint = IPEndpoint("[2001:db8::7]:1080")!
        let reply = SOCKSAddress.ip(IPEndpoint("0.0.0.0:5000")!)
        let known = CapabilityProbe(
            server: server,
            endpoint: endpoint,
            otherAddresses: [IPAddress("192.0.2.7")!],
            echo: nil
        )
        #expect(try known.rendezvous(reply).asUsed == IPEndpoint("192.0.2.7:5000")!)
        let engineWouldUse = try RendezvousAddress(
            reply: reply,
            server: endpoint,
            serverAddresses: [IPAddress("192.0.2.7")!]
        )
        #expect(try known.rendezvous(reply) == engineWouldUse)
        let unknown = CapabilityProbe(server: server, endpoint: endpoint, echo: nil)
        #expect(throws: SOCKS5Error.self) { try unknown.rendezvous(reply) }
    }

    /// Where the echo works, the rendezvous is not asked about.
    @Test func aWorkingRendezvousIsNotQuestioned() async throws {
        let peers = try TestPeers.shared()
        var probe = CapabilityProbe(
            server: ServerDefinition(name: "dante", host: "127.0.0.1", port: peers.danteNoAuth.port),
            endpoint: .loopback(.ipv4, peers.danteNoAuth.port),
            echo: peers.echo.endpoint(.ipv4)
        )
        probe.stepTimeout = .milliseconds(500)
        let f = Dictionary(uniqueKeysWithValues: await probe.findings().map { ($0.key, $0) })
        #expect(f[.relayEcho]?.verdict == .yes)
        #expect(f[.rendezvousAnswers] == nil)
    }
}

/// The engine's associations as they were when a finding came (read off the callback's thread).
final class SeenAssociations: Sendable {
    private let state = Mutex<(tasks: [Task<Void, Never>], snapshots: [AssociationSnapshot])>(([], []))

    func note(_ engine: SessionEngine) {
        let task = Task { [self] in
            let now = await engine.snapshots()
            state.withLock { $0.snapshots += now }
        }
        state.withLock { $0.tasks.append(task) }
    }

    func done() async {
        for task in state.withLock({ $0.tasks }) { await task.value }
    }

    var snapshots: [AssociationSnapshot] { state.withLock { $0.snapshots } }
}
