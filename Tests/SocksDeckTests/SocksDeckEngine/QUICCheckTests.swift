import Foundation
import NIOPosix
import Socks5
import Testing
import UDPChecks

@testable import SocksDeckEngine
@testable import SocksDeckRelay

/// `check --quic` through real relays (Dante, `socksdeck serve`) to a real QUIC server (ngtcp2's
/// gtlsserver), to an echo, and through a relay that cuts datagrams to 1,000 bytes.
@Suite(.tags(.peers), .needsPeers, .serialized) struct QUICCheckTests {
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    @Test func figuresAreGroupedTheSameInEveryLocale() {
        #expect(
            [0, 999, 1000, 65_535, 1_234_567, -1200].map(SessionEngine.grouped) == [
                "0", "999", "1,000", "65,535", "1,234,567", "-1,200",
            ]
        )
    }

    static func quic(_ target: IPEndpoint, through server: ServerDefinition) async throws -> CheckResult {
        try #require(try await ServiceCheckTests.run([.quic(server: .ip(target))], through: server).first)
    }

    @Test(arguments: [AddressFamily.ipv4, .ipv6])
    func throughDanteAQUICServerAnswersWithItsVersions(_ family: AddressFamily) async throws {
        let peers = try TestPeers.shared()
        let quic = try QUICServer.shared()
        let dante = peers.server(family)
        let r = try await Self.quic(
            quic.endpoint(family),
            through: ServerDefinition(name: "dante", host: "\(dante.address)", port: dante.port)
        )
        #expect(r.passed && r.answered, "\(r.summary) \(r.evidence)")
        #expect(r.quicVersions.contains(1), "\(r.finding)")
        #expect(r.summary.hasPrefix("QUIC answers: offers QUIC v1 (RFC 9000)"), "\(r.summary)")
        #expect(r.roundTrip != nil)
        #expect(r.evidence.first?.contains("1,200-byte Initial of reserved version 0x") == true, "\(r.evidence)")
    }

    @Test func throughServeToQUICAndToAnEcho() async throws {
        let peers = try TestPeers.shared()
        let quic = try QUICServer.shared()
        let relay = try await RelayServer.start(RelayConfiguration(listen: [.loopback(.ipv4, 0)]), group: Self.group)
        let server = ServerDefinition(name: "serve", host: "127.0.0.1", port: relay.listening[0].port)
        let answered = try await Self.quic(quic.endpoint(.ipv4), through: server)
        #expect(answered.passed && answered.quicVersions.contains(1), "\(answered)")
        let echo = try await Self.quic(peers.echo.endpoint(.ipv4), through: server)
        #expect(!echo.passed && echo.answered)
        #expect(echo.summary == "not QUIC: an echo (the 1,200-byte Initial came back as sent)", "\(echo.summary)")
        await relay.stop()
    }

    /// A relay that cuts every datagram to 1,000 bytes: the QUIC server drops the cut Initial and
    /// says nothing; the echo target shows the cut, and the verdict names it.
    @Test func throughARelayThatCutsTo1000TheVerdictSaysSo() async throws {
        let peers = try TestPeers.shared()
        let quic = try QUICServer.shared()
        let relay = try await RelayServer.start(
            RelayConfiguration(listen: [.loopback(.ipv4, 0)], cutDatagramsAt: 1000),
            group: Self.group
        )
        let echo = peers.echo.endpoint(.ipv4)
        let port = relay.listening[0].port
        let r = try await Self.quic(
            quic.endpoint(.ipv4),
            through: ServerDefinition(name: "cutting", host: "127.0.0.1", port: port, echo: echo)
        )
        #expect(!r.passed && !r.answered)
        #expect(r.summary == "QUIC needs 1,200-byte datagrams; this relay cut them to 1,000", "\(r.summary)")
        #expect(
            r.evidence.contains { $0.contains("a 1,200-byte datagram came back cut to 1,000 bytes") },
            "\(r.evidence)"
        )
        // Without an echo target the check says what it cannot tell.
        let blind = try await Self.quic(
            quic.endpoint(.ipv4),
            through: ServerDefinition(name: "cutting", host: "127.0.0.1", port: port)
        )
        #expect(blind.summary.contains("cannot be told from a blocked port"), "\(blind.summary)")
        // And to an echo through it: the cut echo itself says it.
        let cutEcho = try await Self.quic(
            echo,
            through: ServerDefinition(name: "cutting", host: "127.0.0.1", port: port)
        )
        #expect(cutEcho.summary.hasPrefix("QUIC needs 1,200-byte datagrams; this relay cut them to 1,000"))
        #expect(relay.statistics.datagramsCut >= 3)
        await relay.stop()
    }
}

extension CheckResult {
    /// The versions a QUIC check's finding names; none for any other finding.
    fileprivate var quicVersions: [UInt32] {
        if case .quic(let versions) = finding { return versions }
        return []
    }
}
