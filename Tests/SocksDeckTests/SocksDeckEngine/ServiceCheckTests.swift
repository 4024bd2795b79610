import Foundation
import NIOPosix
import Socks5
import Testing
import UDPChecks

@testable import SocksDeckEngine
@testable import SocksDeckRelay

/// DNS, NTP and STUN checks through real relays (Dante, `socksdeck serve`, shadowsocks-libev's
/// ss-local) to real services (dnsmasq, chronyd, coturn), IPv4 and IPv6 where they do it.
@Suite(.tags(.peers), .needsPeers, .serialized) struct ServiceCheckTests {
    /// Opens an association through `server`, runs `checks`, closes it.
    static func run(_ checks: [ServiceCheck], through server: ServerDefinition) async throws -> [CheckResult] {
        let engine = SessionEngine(configuration: DeckConfiguration(servers: [server]))
        let id = try await engine.open(server: server)
        let settled = await engine.waitUntilSettled(id, timeout: .seconds(10))
        try #require(settled?.state == .associated, "\(String(describing: settled?.state))")
        var results: [CheckResult] = []
        // On loopback a reply comes in a millisecond: the NAT test's waits for the ones that never
        // come can be short (under ThreadSanitizer too).
        let quick = STUNRetransmission(rto: .milliseconds(100), requests: 2, finalWaitMultiplier: 2)
        for check in checks { results.append(try await engine.run(check, through: id, natRetransmission: quick)) }
        await engine.shutdown()
        return results
    }

    static func checks(_ s: UDPServices, _ family: AddressFamily) -> [ServiceCheck] {
        [
            .dns(resolver: .ip(s.dns(family)), name: "socksdeck.test", type: family == .ipv4 ? .a : .aaaa),
            .dns(resolver: .ip(s.dns(family)), name: "nothing.socksdeck.test", type: .a),
            .ntp(server: .ip(s.ntp(family))),
            .stun(server: .ip(s.stun(family))),
        ]
    }

    static func expectAllPass(_ results: [CheckResult], _ family: AddressFamily, _ s: UDPServices, via: String) {
        #expect(
            results.count == 4 && results.allSatisfy(\.passed),
            "\(via): \(results.map { "\($0.check): \($0.summary)" })"
        )
        #expect(
            results[0].summary == (family == .ipv4 ? "NOERROR: A 127.0.0.9 (TTL 60)" : "NOERROR: AAAA ::9 (TTL 60)"),
            "\(via)"
        )
        // NXDOMAIN is an answer: the relay carried the question and the answer.
        #expect(results[1].summary == "NXDOMAIN" && results[1].passed, "\(via)")
        #expect(
            results[2].summary.hasPrefix("stratum 10, reference 127.127.1.1, offset "),
            "\(via): \(results[2].summary)"
        )
        let stun = results[3]
        guard case .stun(let mapped) = stun.finding else {
            Issue.record("\(via): a STUN finding was expected: \(stun.finding)")
            return
        }
        #expect(mapped.description.hasPrefix(family == .ipv4 ? "127.0.0.1:" : "[::1]:"), "\(via): \(stun.summary)")
        #expect(stun.evidence.contains { $0.hasPrefix("OTHER-ADDRESS ") }, "\(via): \(stun.evidence)")
        #expect(stun.evidence.contains("RESPONSE-ORIGIN \(s.stun(family))"), "\(via): \(stun.evidence)")
    }

    @Test(arguments: [AddressFamily.ipv4, .ipv6])
    func throughDante(_ family: AddressFamily) async throws {
        let peers = try TestPeers.shared()
        let services = try UDPServices.shared()
        let server = ServerDefinition(
            name: "dante",
            host: "\(peers.server(family).address)",
            port: peers.server(family).port
        )
        Self.expectAllPass(
            try await Self.run(Self.checks(services, family), through: server),
            family,
            services,
            via: "Dante"
        )
    }

    @Test(arguments: [AddressFamily.ipv4, .ipv6])
    func throughSocksDecksOwnRelay(_ family: AddressFamily) async throws {
        let services = try UDPServices.shared()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let relay = try await RelayServer.start(RelayConfiguration(listen: [.loopback(family, 0)]), group: group)
        let endpoint = relay.listening[0]
        let server = ServerDefinition(name: "serve", host: "\(endpoint.address)", port: endpoint.port)
        let results = try await Self.run(Self.checks(services, family), through: server)
        await relay.stop()
        try await group.shutdownGracefully()
        Self.expectAllPass(results, family, services, via: "serve")
    }

    /// ss-local (shadowsocks-libev) relays UDP through ss-server; IPv4 (it listens on 127.0.0.1).
    @Test func throughShadowsocksLocal() async throws {
        let services = try UDPServices.shared()
        let ss = try ShadowsocksPair()
        defer { ss.stop() }
        let server = ServerDefinition(name: "ss-local", host: "127.0.0.1", port: ss.localPort)
        Self.expectAllPass(
            try await Self.run(Self.checks(services, .ipv4), through: server),
            .ipv4,
            services,
            via: "ss-local"
        )
    }

    /// A name stays a name (ATYP 3, for the relay to resolve); ports default per service. (Not
    /// sent anywhere: a relay resolving a name here would query DNS off the machine.)
    @Test func targetsAreReadAsPeopleWriteThem() throws {
        let name = try #require(CheckKind.dns.target("dns.example"))
        #expect(name == .domain(DomainName("dns.example")!, port: 53))
        #expect(
            CheckKind.dns.target("dns.example:5353")
                == .domain(DomainName("dns.example")!, port: 5353)
        )
        #expect(CheckKind.dns.target("9.9.9.9") == .ip(IPEndpoint("9.9.9.9:53")!))
        #expect(CheckKind.ntp.target("2001:db8::1") == .ip(IPEndpoint("[2001:db8::1]:123")!))
        #expect(CheckKind.stun.target("[2001:db8::1]") == .ip(IPEndpoint("[2001:db8::1]:3478")!))
        #expect(
            CheckKind.nat.target("[2001:db8::1]:19302")
                == .ip(IPEndpoint("[2001:db8::1]:19302")!)
        )
        #expect(CheckKind.dns.target("::1:20053") == nil)
    }

    @Test func aServiceThatDoesNotAnswerIsSaidSoWithinItsBound() async throws {
        let peers = try TestPeers.shared()
        let server = ServerDefinition(name: "dante", host: "127.0.0.1", port: peers.danteNoAuth.port)
        let started = Date()
        let results = try await Self.run([.ntp(server: .ip(.loopback(.ipv4, peers.closedPort)))], through: server)
        #expect(!results[0].answered && !results[0].passed && results[0].summary == "no answer")
        #expect(Date().timeIntervalSince(started) < 8)
    }

    /// Every check pointed at an echo says that an echo answered, NTP included (it used to say
    /// "nothing came back" while both datagrams came back: issue 29).
    @Test func eachCheckAgainstAnEchoSaysItIsAnEcho() async throws {
        let peers = try TestPeers.shared()
        let server = ServerDefinition(name: "dante", host: "127.0.0.1", port: peers.danteNoAuth.port)
        let echo = SOCKSAddress.ip(peers.echo.endpoint(.ipv4))
        let results = try await Self.run(
            [.dns(resolver: echo, name: "example.com", type: .a), .ntp(server: echo), .stun(server: echo)],
            through: server
        )
        for r in results {
            #expect(r.answered && !r.passed, "\(r.check): \(r.summary)")
            #expect(r.summary.contains("echo"), "\(r.check): \(r.summary)")
        }
        #expect(results[1].summary.contains("our own request came back unchanged"), "\(results[1].summary)")
    }
}
