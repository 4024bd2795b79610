import Foundation
import Socks5
import Testing

@testable import SocksDeckEngine

/// The engine against real servers: Dante (no-auth and RFC 1929, IPv4 and IPv6), microsocks,
/// nothing at all, and a Dante stopped under a live association.
@Suite(.tags(.peers), .needsPeers) struct SessionEngineTests {
    static func configuration(_ peers: TestPeers) -> DeckConfiguration {
        DeckConfiguration(servers: [
            ServerDefinition(
                name: "dante",
                host: "127.0.0.1",
                port: peers.danteNoAuth.port,
                echo: peers.echo.endpoint(.ipv4)
            ),
            ServerDefinition(
                name: "dante6",
                host: "::1",
                port: peers.danteNoAuth.port,
                echo: peers.echo.endpoint(.ipv6)
            ),
            ServerDefinition(
                name: "dante-auth",
                host: "127.0.0.1",
                port: peers.danteUserPass.port,
                credentials: TestPeers.credentials
            ),
            ServerDefinition(
                name: "dante-auth6",
                host: "::1",
                port: peers.danteUserPass.port,
                credentials: TestPeers.credentials
            ),
            ServerDefinition(name: "microsocks", host: "127.0.0.1", port: peers.microsocksPort),
            ServerDefinition(name: "nothing", host: "127.0.0.1", port: peers.closedPort),
        ])
    }

    /// Polls a snapshot until `condition` holds or `seconds` pass.
    static func eventually(
        _ engine: SessionEngine,
        _ id: AssociationID,
        seconds: Double = 3,
        _ condition: (AssociationSnapshot) -> Bool
    ) async -> AssociationSnapshot? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let s = await engine.snapshot(id), condition(s) { return s }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return await engine.snapshot(id)
    }

    /// A datagram larger than receive_buffer_bytes is dropped as oversize and said so, never
    /// delivered cut; the ones that fit pass.
    @Test func aDatagramLargerThanTheReceiveBufferIsDroppedAsOversize() async throws {
        let peers = try TestPeers.shared()
        let server = ServerDefinition(
            name: "small",
            host: "127.0.0.1",
            port: peers.danteNoAuth.port,
            receiveBufferBytes: 512
        )
        let engine = SessionEngine(configuration: DeckConfiguration(servers: [server]))
        let id = try await engine.open(server: "small")
        #expect(await engine.waitUntilSettled(id, timeout: .seconds(5))?.state == .associated)
        let echo = SOCKSAddress.ip(peers.echo.endpoint(.ipv4))
        // 10-byte header + 501 bytes = 511: fits. 502 fills the 512-byte buffer: maybe cut, dropped.
        try await engine.send(id, to: echo, payload: [UInt8](repeating: 1, count: 501), count: 3)
        try await engine.send(id, to: echo, payload: [UInt8](repeating: 2, count: 502), count: 2)
        let s = await Self.eventually(engine, id) {
            $0.counters.datagramsReceived == 3 && $0.counters.droppedTotal == 2
        }
        #expect(s?.counters.datagramsReceived == 3)
        #expect(s?.counters.bytesReceived == 3 * 501)
        #expect(s?.counters.drops[.oversize] == 2)
        #expect(await engine.events(for: id).contains { $0.message.contains("filled the 512-byte receive buffer") })
        await engine.shutdown()
    }

    /// The default receive buffer gives back the pages small datagrams do not use
    /// (`ReceiveBufferPages`), and still takes every datagram whole: large ones between small
    /// ones, through Dante and back, byte for byte.
    @Test func largeDatagramsBetweenSmallOnesArriveWhole() async throws {
        let peers = try TestPeers.shared()
        let engine = SessionEngine(configuration: Self.configuration(peers))
        let id = try await engine.open(server: "dante")
        #expect(await engine.waitUntilSettled(id, timeout: .seconds(5))?.state == .associated)
        let echo = SOCKSAddress.ip(peers.echo.endpoint(.ipv4))
        var total = 0
        for (n, length) in [40, 65_000, 40, 40, 30_000, 65_000, 40].enumerated() {
            let payload = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 7 + n + 1) }
            let reply = try await engine.exchange(
                id,
                to: echo,
                request: payload,
                sendAt: [.zero, .milliseconds(500), .seconds(1)],
                giveUpAt: .seconds(3)
            ) { $0 == payload }
            #expect(reply != nil, "the \(length)-byte datagram (#\(n)) did not come back whole")
            total += length
        }
        let s = await engine.snapshot(id)
        #expect(s?.counters.droppedTotal == 0)
        #expect((s?.counters.bytesReceived ?? 0) >= total)
        await engine.shutdown()
    }

    /// Pipelined (the request sent with the greeting), the history still shows every phase:
    /// the method selection alone moves the handshake to the reply.
    @Test func aPipelinedOpenThroughDanteRecordsEveryPhase() async throws {
        let peers = try TestPeers.shared()
        let server = ServerDefinition(name: "piped", host: "127.0.0.1", port: peers.danteNoAuth.port, pipelining: true)
        let engine = SessionEngine(configuration: DeckConfiguration(servers: [server]))
        let id = try await engine.open(server: "piped")
        let settled = try #require(await engine.waitUntilSettled(id, timeout: .seconds(5)))
        #expect(settled.state == .associated, "\(settled.state)")
        #expect(settled.history.map(\.state) == [.connecting, .negotiating, .requesting, .associated])
        await engine.shutdown()
    }

    /// microsocks drops a pipelined request: the engine's failure says so, and its hint points
    /// at pipelining, not at raising handshake_timeout_ms (a longer wait fails the same way).
    @Test func aPipelinedOpenThroughMicrosocksBlamesPipeliningNotTheTimeout() async throws {
        let peers = try TestPeers.shared()
        let server = ServerDefinition(
            name: "piped",
            host: "127.0.0.1",
            port: peers.microsocksPort,
            handshakeTimeout: .milliseconds(500),
            pipelining: true
        )
        let engine = SessionEngine(configuration: DeckConfiguration(servers: [server]))
        let id = try await engine.open(server: "piped")
        let settled = try #require(await engine.waitUntilSettled(id, timeout: .seconds(5)))
        guard case .failed(let f) = settled.state else {
            Issue.record("\(settled.state)")
            await engine.shutdown()
            return
        }
        #expect(f.detail?.contains("turn pipelining off") == true, "\(f)")
        #expect(f.hint?.contains("no pipelining") == true && f.hint?.contains("Raise") == false, "\(f)")
        await engine.shutdown()
    }

    @Test(arguments: ["dante", "dante6", "dante-auth", "dante-auth6"])
    func openSendReceiveAndCloseWithExactCounters(server: String) async throws {
        let peers = try TestPeers.shared()
        let engine = SessionEngine(configuration: Self.configuration(peers))
        let id = try await engine.open(server: server)
        let settled = try #require(await engine.waitUntilSettled(id, timeout: .seconds(5)))
        #expect(settled.state == .associated, "\(settled.state)")
        #expect(
            settled.history.map(\.state.name)
                == (server.hasPrefix("dante-auth")
                    ? ["connecting", "negotiating", "authenticating", "requesting", "associated"]
                    : ["connecting", "negotiating", "requesting", "associated"])
        )
        let rendezvous = try #require(settled.rendezvous)
        #expect(rendezvous.asUsed.address.isLoopback && !rendezvous.replacedUnspecified)
        #expect(settled.controlRemote != nil && settled.dataSocketLocal != nil)

        let family: AddressFamily = server.hasSuffix("6") ? .ipv6 : .ipv4
        let burst = 50
        let payload = Array("counted datagram".utf8)
        let written = try await engine.send(id, to: .ip(peers.echo.endpoint(family)), payload: payload, count: burst)
        #expect(written == burst)
        let done = await Self.eventually(engine, id) { $0.counters.datagramsReceived == burst }
        let counters = try #require(done?.counters)
        #expect(counters.datagramsSent == burst && counters.bytesSent == burst * payload.count)
        #expect(counters.datagramsReceived == burst && counters.bytesReceived == burst * payload.count)
        #expect(counters.droppedTotal == 0 && counters.sendErrors == 0)
        #expect(done?.recent.last?.direction == .received)
        #expect(done?.recent.last?.firstBytes == payload)
        #expect(done?.sendRate.history(59, now: Date().addingTimeInterval(1.5)).reduce(0, +) == burst)

        await engine.close(id)
        let closed = await engine.snapshot(id)
        #expect(closed?.state == .closed(reason: "closed by the user") && closed?.closedBy == .user)
        await engine.shutdown()
    }

    @Test func anEngineThatWasShutDownSaysSoInsteadOfCrashing() async throws {
        let peers = try TestPeers.shared()
        let engine = SessionEngine(configuration: Self.configuration(peers))
        await engine.shutdown()
        await #expect(throws: EngineError.shutDown) {
            _ = try await engine.open(server: "dante")
        }
        #expect(await engine.snapshots().isEmpty)
    }

    @Test func aServerWithoutItsPasswordIsRefusedBeforeAnythingIsSent() async throws {
        let peers = try TestPeers.shared()
        let server = ServerDefinition(
            name: "locked",
            host: "127.0.0.1",
            port: peers.danteUserPass.port,
            configuredUsername: "u",
            unusableBecause: "the environment variable X is not set"
        )
        let engine = SessionEngine(configuration: DeckConfiguration(servers: [server]))
        await withEngine(engine) { engine in
            await #expect(
                throws: EngineError.unusableServer("locked", because: "the environment variable X is not set")
            ) {
                try await engine.open(server: "locked")
            }
            #expect(await engine.snapshots().isEmpty)
        }
    }

    @Test func microsocksFailsWithTheDecodedREP7() async throws {
        let peers = try TestPeers.shared()
        let engine = SessionEngine(configuration: Self.configuration(peers))
        let id = try await engine.open(server: "microsocks")
        let s = try #require(await engine.waitUntilSettled(id, timeout: .seconds(5)))
        guard case .failed(let failure) = s.state else {
            Issue.record("\(s.state)")
            return
        }
        #expect(
            failure.name == "S5_EOPNOTSUPP" && failure.code == .commandNotSupported && failure.errnoName == "EOPNOTSUPP"
        )
        #expect(failure.hint?.contains("no UDP relay") == true)
        #expect(await engine.events(for: id).contains { $0.level == .error && $0.message.contains("S5_EOPNOTSUPP") })
        await engine.shutdown()
    }

    /// The view a frame reads is kept between changes (SessionEngine.view): every open, log line,
    /// forget and prune shows in the next one.
    @Test func theViewFollowsEveryOpenLogLineForgetAndPrune() async throws {
        let peers = try TestPeers.shared()
        let engine = SessionEngine(configuration: Self.configuration(peers))
        #expect(await engine.view().associations.isEmpty)
        let before = engine.viewRevision
        let first = try await engine.open(server: "nothing")
        _ = try #require(await engine.waitUntilSettled(first, timeout: .seconds(5)))
        // A screen skips the view while the revision stands still: it must move with each change
        // and stand still when nothing happens.
        let settled = engine.viewRevision
        #expect(settled > before)
        let one = await engine.view()
        try await Task.sleep(for: .milliseconds(200))
        let lastEvents = await engine.events().suffix(3)
        #expect(engine.viewRevision == settled, "\(lastEvents)")
        #expect(one.associations.map(\.id) == [first])
        #expect(one.events.contains { $0.association == first && $0.message.contains("ECONNREFUSED") })
        let second = try await engine.open(server: "nothing")
        _ = try #require(await engine.waitUntilSettled(second, timeout: .seconds(5)))
        let two = await engine.view()
        #expect(two.associations.map(\.id) == [first, second])
        #expect(two.events.count > one.events.count && two.events.last?.association == second)
        #expect(await engine.events() == two.events)
        let beforeForget = engine.viewRevision
        #expect(await engine.forget(first))
        #expect(engine.viewRevision > beforeForget)
        #expect(await engine.view().associations.map(\.id) == [second])
        #expect(await engine.prune() == 1)
        #expect(await engine.view().associations.isEmpty)
        await engine.shutdown()
    }

    @Test func nothingListeningFailsWithECONNREFUSED() async throws {
        let peers = try TestPeers.shared()
        let engine = SessionEngine(configuration: Self.configuration(peers))
        let id = try await engine.open(server: "nothing")
        let s = try #require(await engine.waitUntilSettled(id, timeout: .seconds(5)))
        guard case .failed(let failure) = s.state else {
            Issue.record("\(s.state)")
            return
        }
        #expect(failure.name == "ECONNREFUSED" && failure.code == nil)
        await engine.shutdown()
    }

    @Test func theWrongPasswordFailsWithS5EAUTHAndNeverShowsIt() async throws {
        let peers = try TestPeers.shared()
        let secret = "not-the-password-7731"
        let server = ServerDefinition(
            name: "bad",
            host: "127.0.0.1",
            port: peers.danteUserPass.port,
            credentials: Credentials(username: TestPeers.username, password: secret)
        )
        let engine = SessionEngine(configuration: DeckConfiguration(servers: [server]))
        let id = try await engine.open(server: "bad")
        let s = try #require(await engine.waitUntilSettled(id, timeout: .seconds(5)))
        guard case .failed(let failure) = s.state else {
            Issue.record("\(s.state)")
            return
        }
        #expect(failure.name == "S5_EAUTH")
        var dumped = ""
        dump(engine.configuration, to: &dumped)
        dump(s, to: &dumped)
        let everything = "\(s) \(await engine.events()) \(engine.configuration) \(dumped)"
        #expect(!everything.contains(secret))
        await engine.shutdown()
    }

    @Test func daneStoppedMidAssociationIsClosedWithinASecond() async throws {
        let peers = try TestPeers.shared()
        let dante = try DanteServer(configuration: "sockd-noauth.conf")
        let engine = SessionEngine(
            configuration: DeckConfiguration(servers: [
                ServerDefinition(name: "doomed", host: "127.0.0.1", port: dante.port)
            ])
        )
        let id = try await engine.open(server: "doomed")
        #expect(await engine.waitUntilSettled(id, timeout: .seconds(5))?.state == .associated)
        _ = try await engine.send(id, to: .ip(peers.echo.endpoint(.ipv4)), payload: [1, 2, 3])
        let stoppedAt = Date()
        dante.stop()
        let s = await Self.eventually(engine, id, seconds: 2) { $0.state.isFinal }
        let elapsed = Date().timeIntervalSince(stoppedAt)
        guard case .closed(let reason)? = s?.state else {
            Issue.record("\(String(describing: s?.state)) \(await engine.events())")
            return
        }
        #expect(reason.contains("server"), "\(reason)")
        #expect(elapsed < 1.5)
        // History is kept: the counters from before the end are still there.
        #expect(s?.counters.datagramsSent == 1)
        await engine.shutdown()
    }

    @Test func aStrangersDatagramIsDroppedAndCounted() async throws {
        let peers = try TestPeers.shared()
        let engine = SessionEngine(configuration: Self.configuration(peers))
        let id = try await engine.open(server: "dante")
        let s = try #require(await engine.waitUntilSettled(id))
        let local = try #require(s.dataSocketLocal.flatMap { IPEndpoint($0) })
        let stranger = TestSockets.datagram(.ipv4)
        defer { close(stranger) }
        let forged: [UInt8] = [0, 0, 0, 1, 127, 0, 0, 1, 0, 9, 0x41]
        _ = IPEndpoint.loopback(.ipv4, local.port).withSockaddr { sendto(stranger, forged, forged.count, 0, $0, $1) }
        let after = await Self.eventually(engine, id) { $0.counters.droppedTotal == 1 }
        #expect(after?.counters.drops == [.notFromRelay: 1])
        #expect(after?.counters.datagramsReceived == 0)
        await engine.shutdown()
    }

    @Test func healthProbesMeasureRoundTrips() async throws {
        let peers = try TestPeers.shared()
        let engine = SessionEngine(configuration: Self.configuration(peers))
        let id = try await engine.open(server: "dante")
        #expect(await engine.waitUntilSettled(id)?.state == .associated)
        try await engine.startProbe(id, interval: .milliseconds(50))
        let s = await Self.eventually(engine, id, seconds: 5) { ($0.probe?.answered ?? 0) >= 10 }
        let probe = try #require(s?.probe)
        #expect(probe.answered >= 10 && probe.lost == 0)
        #expect(
            (probe.rttP50 ?? .seconds(-1)) >= .zero && (probe.rttP99 ?? .seconds(-1)) >= (probe.rttP50 ?? .zero)
        )
        // Stopped, its figures stay (the probe subscribes to the association and outlives it);
        // ended, they stay too; a new probe starts from nothing.
        await engine.stopProbe(id)
        let stopped = try #require(await engine.snapshot(id)?.probe)
        #expect(!stopped.running && stopped.answered >= probe.answered, "\(stopped)")
        try await engine.startProbe(id, interval: .milliseconds(50))
        let restarted = try #require(await engine.snapshot(id)?.probe)
        #expect(restarted.running && restarted.sent <= 1, "\(restarted)")
        await engine.close(id)
        let ended = try #require(await engine.snapshot(id)?.probe)
        #expect(!ended.running && ended.sent >= restarted.sent, "\(ended)")
        await engine.shutdown()
    }

    @Test func aProbeToATargetThatNeverAnswersShowsLoss() async throws {
        let peers = try TestPeers.shared()
        let engine = SessionEngine(configuration: Self.configuration(peers))
        let id = try await engine.open(server: "dante")
        #expect(await engine.waitUntilSettled(id)?.state == .associated)
        try await engine.startProbe(id, target: .loopback(.ipv4, peers.closedPort), interval: .milliseconds(100))
        let s = await Self.eventually(engine, id, seconds: 6) { ($0.probe?.lost ?? 0) >= 3 }
        let probe = try #require(s?.probe)
        #expect(probe.lost >= 3 && probe.answered == 0 && probe.rttP50 == nil)
        #expect(probe.lossRatio > 0)
        await engine.shutdown()
    }

    @Test func twoHundredAssociationsOpenAtOnceThenAllClosedLeaveNoDescriptor() async throws {
        let peers = try TestPeers.shared()
        let before = TestSockets.openDescriptorCount()
        let engine = SessionEngine(configuration: Self.configuration(peers))
        var ids: [AssociationID] = []
        for _ in 0..<200 { ids.append(try await engine.open(server: "dante")) }
        var associated = 0
        for id in ids where await engine.waitUntilSettled(id, timeout: .seconds(20))?.state == .associated {
            associated += 1
        }
        #expect(associated == 200)
        let ports = Set(await engine.snapshots().compactMap { $0.rendezvous?.asUsed.port })
        #expect(ports.count == 200)
        for id in ids { await engine.close(id) }
        await engine.shutdown()
        // Give the kernel a moment to finish the closes the loop issued.
        try await Task.sleep(for: .milliseconds(100))
        #expect(TestSockets.openDescriptorCount() <= before)
    }
}
