import Foundation
import Socks5
import Testing

@testable import SocksDeckEngine

/// Echo loads through Dante: every datagram counted once, a silent target ends the load at its
/// stall time with the window lost, and bad arguments are refused in words.
@Suite(.tags(.peers), .needsPeers) struct EchoLoadTests {
    static func associated(_ peers: TestPeers) async throws -> (SessionEngine, AssociationID) {
        let configuration = SessionEngineTests.configuration(peers)
        let server = try #require(configuration.server(named: "dante"))
        let engine = SessionEngine(configuration: configuration)
        let settled = try await engine.openAndWait(server: server, timeout: .seconds(5))
        try #require(settled.state == .associated, "\(settled.state)")
        return (engine, settled.id)
    }

    @Test(.timeLimit(.minutes(1))) func everyDatagramComesBackOnceThroughDante() async throws {
        let peers = try TestPeers.shared()
        let (engine, id) = try await Self.associated(peers)
        let measured = try await engine.measureEcho(id, count: 2000, window: 16, payloadLength: 100)
        #expect(measured.sent == 2000 && measured.echoed == 2000 && measured.lost == 0, "\(measured)")
        #expect(measured.elapsed > .zero && measured.echoesPerSecond > 0)
        let counters = try #require(await engine.snapshot(id)?.counters)
        #expect(counters.datagramsSent == 2000 && counters.datagramsReceived == 2000)
        #expect(counters.bytesSent == 2000 * 100 && counters.droppedTotal == 0)
        // The association can run another one once this one has ended.
        let again = try await engine.measureEcho(id, count: 10, window: 4)
        #expect(again.echoed == 10)
        await engine.shutdown()
    }

    @Test(.timeLimit(.minutes(1))) func aSilentTargetEndsTheLoadAtItsStallTime() async throws {
        let peers = try TestPeers.shared()
        let (engine, id) = try await Self.associated(peers)
        let silent = IPEndpoint(.v4(.loopback), port: peers.closedPort)
        let started = Date()
        let measured = try await engine.measureEcho(id, to: silent, count: 100, window: 8, stall: .milliseconds(300))
        #expect(measured.sent == 8 && measured.echoed == 0 && measured.lost == 8, "\(measured)")
        #expect(Date().timeIntervalSince(started) < 10)
        await engine.shutdown()
    }

    @Test func badArgumentsAreRefusedInWords() async throws {
        let peers = try TestPeers.shared()
        let (engine, id) = try await Self.associated(peers)
        await #expect(throws: EngineError.invalidArgument("payload must be at least 24 bytes (it carries a tag)")) {
            _ = try await engine.measureEcho(id, count: 10, payloadLength: 10)
        }
        await #expect(throws: EngineError.invalidArgument("count must be at least 1")) {
            _ = try await engine.measureEcho(id, count: 0)
        }
        await engine.shutdown()
    }
}
