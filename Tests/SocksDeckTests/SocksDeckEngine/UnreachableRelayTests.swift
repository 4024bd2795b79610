import Foundation
import Glibc
import Socks5
import Testing

@testable import SocksDeckEngine

/// Datagrams into nothing: an echo target that is gone behind Dante, and a rendezvous where
/// nothing listens. Linux keeps ICMP errors from unconnected UDP sockets (IP_RECVERR would
/// report them, but SwiftNIO resets a datagram channel on the error event it causes), so what
/// reports it is the probe: every probe lost, the association still up and still sending.
@Suite(.tags(.peers), .needsPeers) struct UnreachableRelayTests {
    static func closedUDPPort() -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        _ = IPEndpoint.loopback(.ipv4, 0).withSockaddr { bind(fd, $0, $1) }
        defer { close(fd) }
        return TestSockets.localEndpoint(fd)!.port
    }

    @Test func anEchoTargetThatIsGoneIsTotalLossNotAFailure() async throws {
        let peers = try TestPeers.shared()
        let gone = IPEndpoint.loopback(.ipv4, Self.closedUDPPort())
        let engine = SessionEngine(
            configuration: DeckConfiguration(servers: [
                ServerDefinition(name: "dante", host: "127.0.0.1", port: peers.danteNoAuth.port, echo: gone)
            ])
        )
        let id = try await engine.open(server: "dante")
        #expect(await engine.waitUntilSettled(id, timeout: .seconds(5))?.state == .associated)
        try await engine.startProbe(id, interval: .milliseconds(100))
        // Probes time out after 2 s (at least three intervals).
        let s = await SessionEngineTests.eventually(engine, id, seconds: 6) { ($0.probe?.lost ?? 0) >= 3 }
        #expect((s?.probe?.lost ?? 0) >= 3)
        #expect(s?.probe?.answered == 0)
        #expect(s?.probe?.lossRatio ?? 0 > 0.1)
        #expect(s?.state == .associated, "silence from a target is not the end of the association")
        #expect(s?.counters.sendErrors == 0)
        await engine.shutdown()
    }

    @Test func aRendezvousWhereNothingListensKeepsSending() async throws {
        let port = Self.closedUDPPort()
        // A server whose UDP ASSOCIATE reply names that port as the rendezvous.
        let server = ScriptedServer(script: [
            .expect(3), .send([0x05, 0x00]), .expect(10),
            .send([0x05, 0x00, 0x00, 0x01, 127, 0, 0, 1, UInt8(port >> 8), UInt8(port & 0xFF)]),
            .silent(seconds: 4),
        ])
        let engine = SessionEngine(
            configuration: DeckConfiguration(servers: [
                ServerDefinition(name: "gone", host: "127.0.0.1", port: server.endpoint.port)
            ])
        )
        let id = try await engine.open(server: "gone")
        #expect(await engine.waitUntilSettled(id, timeout: .seconds(3))?.state == .associated)
        // The ICMP port unreachable each send provokes ends nothing: every send goes out.
        #expect(
            try await engine.send(
                id,
                to: .ip(IPEndpoint("192.0.2.1:9")!),
                payload: Array("anyone?".utf8),
                count: 5,
                interval: .milliseconds(20)
            ) == 5
        )
        let s = await engine.snapshot(id)
        #expect(s?.state == .associated && s?.counters.datagramsSent == 5)
        await engine.shutdown()
    }
}
