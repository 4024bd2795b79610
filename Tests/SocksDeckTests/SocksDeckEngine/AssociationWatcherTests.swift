import Foundation
import NIOPosix
import Socks5
import SocksDeckRelay
import Testing

@testable import SocksDeckEngine

/// `watch`'s loop (AssociationWatcher) against servers that die and come back: it must follow
/// only its own associations, report every end once, and retry every server that is down.
@Suite(.tags(.peers), .needsPeers, .serialized) struct AssociationWatcherTests {
    /// Ticks every 100 ms until `done` holds or `seconds` pass; the events seen on the way.
    static func tick(
        _ watcher: AssociationWatcher,
        within seconds: Double,
        until done: () async -> Bool
    ) async -> (met: Bool, events: [WatchEvent]) {
        var events: [WatchEvent] = []
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            events += await watcher.tick(summary: false)
            if await done() { return (true, events) }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return (false, events)
    }

    /// Two associations to one Dante (IPv4 and IPv6), Dante killed (its whole process group) and
    /// started again on its port: both are down within the probe interval and a second, both
    /// ended once each, and both are up again after the restart. A global prune used to drop the
    /// second server's ended association before the loop saw it, which then stayed "associated".
    @Test func bothServersOfOneKilledDanteGoDownAndComeBack() async throws {
        let echo = try TestPeers.shared().echo
        let dante = try DanteServer(configuration: "sockd-noauth.conf")
        let engine = SessionEngine(configuration: DeckConfiguration(servers: []))
        let servers = [
            ServerDefinition(name: "dante", host: "127.0.0.1", port: dante.port, echo: echo.endpoint(.ipv4)),
            ServerDefinition(name: "dante6", host: "::1", port: dante.port, echo: echo.endpoint(.ipv6)),
        ]
        let watcher = AssociationWatcher(engine: engine, servers: servers, echo: nil, probeInterval: .milliseconds(200))
        let up = await Self.tick(watcher, within: 10) { await watcher.down().isEmpty }
        #expect(up.met, "\(up.events.map { "\($0.what)" })")
        dante.stop()
        let started = Date()
        let down = await Self.tick(watcher, within: 5) { await watcher.down().count == 2 }
        #expect(down.met, "\(down.events.map { "\($0.what)" })")
        #expect(Date().timeIntervalSince(started) < 2.5)
        let ends = down.events.filter {
            if case .ended = $0.what { true } else { false }
        }
        #expect(Set(ends.map(\.server)) == ["dante", "dante6"], "\(ends.map { ($0.server, $0.what) })")
        #expect(ends.filter { $0.server == "dante" }.count == 1)
        let restarted = try DanteServer(configuration: "sockd-noauth.conf", port: dante.port)
        defer { restarted.stop() }
        let back = await Self.tick(watcher, within: 15) { await watcher.down().isEmpty }
        #expect(back.met, "\(back.events.map { "\($0.what)" })")
        await engine.shutdown()
    }

    /// Two servers refused at the start are both retried, and both associate once relays listen
    /// on their ports (the second used to stay "connecting" for ever).
    @Test func twoRefusedServersAreBothRetriedUntilRelaysListen() async throws {
        let ports = [TestSockets.freePort(), TestSockets.freePort()]
        let engine = SessionEngine(configuration: DeckConfiguration(servers: []))
        let servers = ports.enumerated().map { i, port in
            ServerDefinition(name: "refused-\(i)", host: "127.0.0.1", port: port)
        }
        let watcher = AssociationWatcher(engine: engine, servers: servers, echo: nil, probeInterval: .milliseconds(200))
        let refused = await Self.tick(watcher, within: 3) {
            await watcher.down().filter { $0.contains("(down)") }.count == 2
        }
        #expect(refused.met, "\(refused.events.map { "\($0.what)" })")
        let failed = refused.events.filter {
            if case .ended(_, .failed, _, _) = $0.what { true } else { false }
        }
        #expect(Set(failed.map(\.server)) == ["refused-0", "refused-1"])
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var relays: [RelayServer] = []
        for port in ports {
            relays.append(
                try await RelayServer.start(RelayConfiguration(listen: [.loopback(.ipv4, port)]), group: group)
            )
        }
        let up = await Self.tick(watcher, within: 15) { await watcher.down().isEmpty }
        #expect(up.met, "\(up.events.map { "\($0.what)" })")
        await engine.shutdown()
        for relay in relays { await relay.stop() }
        try await group.shutdownGracefully()
    }
}
