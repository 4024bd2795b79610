import Foundation
import NIOPosix
import Socks5
import SocksDeckEngine
import Testing

@testable import SocksDeckRelay

/// The built-in relay, in this process, against the library, the engine, and the relay-side
/// rules of RFC 1928; real third-party clients are in ThirdPartyClientTests.
@Suite(.tags(.peers), .needsPeers) struct RelayServerTests {
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    static func start(
        _ configuration: RelayConfiguration = RelayConfiguration(listen: [.loopback(.ipv4, 0), .loopback(.ipv6, 0)])
    ) async throws -> RelayServer {
        try await RelayServer.start(configuration, group: group)
    }

    private func echoOnce(
        _ association: borrowing UDPAssociation,
        _ target: IPEndpoint,
        _ payload: [UInt8]
    ) throws -> [UInt8] {
        TestSockets.setReceiveTimeout(association.dataSocket, milliseconds: 3000)
        try association.send(payload, to: .ip(target))
        var buffer = [UInt8](repeating: 0, count: 70_000)
        let d = try buffer.withUnsafeMutableBytes { try association.receive(into: $0) }
        #expect(d.sender == .ip(target))
        return Array(buffer[0..<d.length])
    }

    @Test(arguments: [(AddressFamily.ipv4, AddressFamily.ipv4), (.ipv6, .ipv6), (.ipv4, .ipv6), (.ipv6, .ipv4)])
    func theLibraryAssociatesThroughTheRelay(serverFamily: AddressFamily, family: AddressFamily) async throws {
        let peers = try TestPeers.shared()
        let relay = try await Self.start()
        let server = relay.listening.first { $0.family == serverFamily }!
        let association = try UDPAssociation.open(server: server, family: family)
        // BND is concrete, never 0.0.0.0, and of the family asked for.
        #expect(!association.rendezvous.replacedUnspecified && association.rendezvous.asUsed.address.isLoopback)
        #expect(association.rendezvous.asUsed.family == family)
        for size in [0, 1, 1200, 65_000] {
            let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0) }
            #expect(try echoOnce(association, peers.echo.endpoint(family), payload) == payload)
        }
        association.close()
        await relay.stop()
    }

    /// The relay's end of a client's control connection has Nagle off (a reply is never held for
    /// an ACK) and SO_DEBUG left alone: set at SOL_SOCKET, TCP_NODELAY's number is SO_DEBUG,
    /// which only CAP_NET_ADMIN may set, so serve run by anyone else reset every connection.
    @Test func acceptedConnectionsHaveNoDelayAndNoDebug() async throws {
        let relay = try await Self.start(RelayConfiguration(listen: [.loopback(.ipv4, 0)]))
        let association = try UDPAssociation.open(server: relay.listening[0])
        // The relay runs in this process: its accepted socket is the one whose peer is ours.
        let ours = try #require(IPEndpoint.local(of: association.controlSocket))
        let accepted = try #require(
            (0..<Int32(4096)).first {
                IPEndpoint.peer(of: $0) == ours && IPEndpoint.local(of: $0) == relay.listening[0]
            }
        )
        func option(_ level: Int32, _ name: Int32) -> Int32 {
            var value: Int32 = -1
            var length = socklen_t(MemoryLayout<Int32>.size)
            #expect(getsockopt(accepted, level, name, &value, &length) == 0)
            return value
        }
        #expect(option(Int32(IPPROTO_TCP), TCP_NODELAY) == 1)
        #expect(option(SOL_SOCKET, SO_DEBUG) == 0)
        association.close()
        await relay.stop()
    }

    @Test func usernamePasswordIsEnforced() async throws {
        let peers = try TestPeers.shared()
        let credentials = Credentials(username: "relay-user", password: "relay-pass")!
        let relay = try await Self.start(RelayConfiguration(listen: [.loopback(.ipv4, 0)], credentials: credentials))
        let server = relay.listening[0]
        let ok = try UDPAssociation.open(server: server, options: SOCKS5Options(credentials: credentials))
        #expect(try echoOnce(ok, peers.echo.endpoint(.ipv4), [7]) == [7])
        #expect { try UDPAssociation.open(server: server) } throws: { ($0 as! SOCKS5Error).code == .noAcceptableMethod }
        #expect {
            try UDPAssociation.open(
                server: server,
                options: SOCKS5Options(credentials: Credentials(username: "relay-user", password: "nope"))
            )
        } throws: { ($0 as! SOCKS5Error).code == .authenticationFailed }
        await relay.stop()
    }

    @Test func noUDPAnswersREP7AndBINDIsREP7() async throws {
        let relay = try await Self.start(RelayConfiguration(listen: [.loopback(.ipv4, 0)], udpEnabled: false))
        #expect { try UDPAssociation.open(server: relay.listening[0]) } throws: {
            ($0 as! SOCKS5Error).code == .commandNotSupported
        }
        let fd = TestSockets.stream(.ipv4)
        defer { close(fd) }
        #expect {
            try SOCKS5Client.bind(controlSocket: fd, server: relay.listening[0], expectedPeer: .unspecified(.ipv4))
        } throws: {
            ($0 as! SOCKS5Error).code == .commandNotSupported
        }
        await relay.stop()
    }

    @Test func connectJoinsTheClientToTheTarget() async throws {
        let relay = try await Self.start()
        let target = TCPEchoServer()
        let fd = TestSockets.stream(.ipv4)
        defer { close(fd) }
        let reply = try SOCKS5Client.connect(
            controlSocket: fd,
            server: relay.listening[0],
            target: .ip(target.endpoint)
        )
        #expect(reply.boundAddress.endpoint?.address.isLoopback == true)
        #expect(target.echoOnce(through: fd, Array("spliced".utf8)) == Array("spliced".utf8))
        await relay.stop()
    }

    /// A client that declares the *target* as DST (05 03 00 01 7f 00 00 01 + the target's port):
    /// strict checking refuses its datagrams and says where the expectation came from; `address`
    /// adopts the first datagram's port; `none` takes any source.
    @Test(arguments: [SourceCheck.declared, .address, .none])
    func aClientDeclaringTheTargetAsDST(_ check: SourceCheck) async throws {
        let peers = try TestPeers.shared()
        let events = EventRecorder()
        let relay = try await RelayServer.start(
            RelayConfiguration(listen: [.loopback(.ipv4, 0)], sourceCheck: check),
            group: Self.group,
            log: { events.add($0) }
        )
        let echo = peers.echo.endpoint(.ipv4)
        let control = TestSockets.stream(.ipv4)
        defer { close(control) }
        TestSockets.setReceiveTimeout(control, milliseconds: 3000)
        #expect(relay.listening[0].withSockaddr { connect(control, $0, $1) } == 0)
        let request: [UInt8] = [
            0x05, 0x01, 0x00, 0x05, 0x03, 0x00, 0x01, 127, 0, 0, 1, UInt8(echo.port >> 8), UInt8(echo.port & 0xFF),
        ]
        _ = send(control, request, request.count, 0)
        var reply = [UInt8](repeating: 0, count: 12)
        #expect(recv(control, &reply, 12, Int32(MSG_WAITALL)) == 12 && reply[1] == 0x00 && reply[3] == 0x00)
        let rendezvous = IPEndpoint(
            .v4(IPv4Address(reply[6], reply[7], reply[8], reply[9])),
            port: UInt16(reply[10]) << 8 | UInt16(reply[11])
        )
        let data = TestSockets.datagram(.ipv4, receiveTimeoutMilliseconds: 500)
        defer { close(data) }
        sendRaw(data, header(echo) + Array("hi".utf8), to: rendezvous)
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = recv(data, &buffer, 64, 0)
        let port = IPEndpoint.local(of: data)!.port
        switch check {
        case .declared:
            #expect(n == -1, "strict checking refuses a port other than the declared one")
            let drop = events.all.first { $0.kind == .dropped }?.message ?? ""
            #expect(drop.contains("the client declared 127.0.0.1:\(echo.port) in its UDP ASSOCIATE request"), "\(drop)")
            #expect(drop.contains("datagrams come from port \(port)"), "\(drop)")
            #expect(relay.statistics.drops[.undeclaredSourcePort] == 1)
        case .address, .none:
            #expect(n == 10 + 2 && Array(buffer[10..<12]) == Array("hi".utf8))
            #expect(relay.statistics.drops.isEmpty)
        }
        await relay.stop()
    }

    /// A greeting and the RFC 1929 login in one segment: one login, one log line.
    @Test func aGreetingAndLoginInOneWriteLogOneLogin() async throws {
        let events = EventRecorder()
        let credentials = Credentials(username: "u", password: "p")!
        let relay = try await RelayServer.start(
            RelayConfiguration(listen: [.loopback(.ipv4, 0)], credentials: credentials),
            group: Self.group,
            log: { events.add($0) }
        )
        let control = TestSockets.stream(.ipv4)
        defer { close(control) }
        TestSockets.setReceiveTimeout(control, milliseconds: 3000)
        #expect(relay.listening[0].withSockaddr { connect(control, $0, $1) } == 0)
        let bytes: [UInt8] = [0x05, 0x01, 0x02, 0x01, 0x01, 0x75, 0x01, 0x70]
        _ = send(control, bytes, bytes.count, 0)
        var reply = [UInt8](repeating: 0, count: 4)
        #expect(recv(control, &reply, 4, Int32(MSG_WAITALL)) == 4 && reply == [0x05, 0x02, 0x01, 0x00])
        // The line is logged on the relay's loop after the reply is written: wait for it (bounded),
        // then a little longer for a second one, which must not come.
        let deadline = Date().addingTimeInterval(2)
        while events.all.filter({ $0.kind == .authenticated }).isEmpty && Date() < deadline { usleep(10_000) }
        usleep(100_000)
        #expect(events.all.filter { $0.kind == .authenticated }.count == 1)
        await relay.stop()
    }

    /// Sends a raw datagram to the relay from `fd`.
    private func sendRaw(_ fd: Int32, _ bytes: [UInt8], to relay: IPEndpoint) {
        _ = relay.withSockaddr { sendto(fd, bytes, bytes.count, 0, $0, $1) }
    }

    private func header(_ target: IPEndpoint, fragment: UInt8 = 0) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 32)
        let n = bytes.withUnsafeMutableBytes {
            UDPDatagramHeader(fragment: fragment, address: .ip(target)).write(into: $0)
        }
        return Array(bytes[0..<n])
    }

    @Test func relaySideRulesDropAndCount() async throws {
        let peers = try TestPeers.shared()
        let relay = try await Self.start(RelayConfiguration(listen: [.loopback(.ipv4, 0)], maximumDatagram: 2000))
        let association = try UDPAssociation.open(server: relay.listening[0])
        let rendezvous = association.rendezvous.asUsed
        let echo = peers.echo.endpoint(.ipv4)
        // The first datagram locks the client's source port.
        #expect(try echoOnce(association, echo, [1]) == [1])
        // A second socket on the same address: another source port, dropped.
        let other = TestSockets.datagram(.ipv4, receiveTimeoutMilliseconds: 300)
        defer { close(other) }
        sendRaw(other, header(echo) + [2], to: rendezvous)
        var byte: UInt8 = 0
        #expect(recv(other, &byte, 1, 0) == -1, "nothing may come back to a foreign port")
        // From the locked port: a fragment, a malformed header, an oversize datagram.
        sendRaw(association.dataSocket, header(echo, fragment: 1) + [3], to: rendezvous)
        sendRaw(association.dataSocket, [0, 0, 0, 1, 127, 0], to: rendezvous)
        sendRaw(association.dataSocket, header(echo) + [UInt8](repeating: 4, count: 3000), to: rendezvous)
        // And a good one after them, which still goes through.
        #expect(try echoOnce(association, echo, [5]) == [5])
        let drops = relay.statistics.drops
        // The library declares its data socket's port, so the other port is not the declared one.
        #expect(
            drops[.undeclaredSourcePort] == 1 && drops[.fragmented] == 1 && drops[.malformedHeader] == 1
                && drops[.oversize] == 1,
            "\(drops)"
        )
        #expect(relay.statistics.datagramsToTargets == 2 && relay.statistics.datagramsToClients == 2)
        association.close()
        await relay.stop()
    }

    @Test func closingTheControlConnectionClosesTheRelaySocket() async throws {
        let peers = try TestPeers.shared()
        let relay = try await Self.start()
        let association = try UDPAssociation.open(server: relay.listening[0])
        let rendezvous = association.rendezvous.asUsed
        #expect(try echoOnce(association, peers.echo.endpoint(.ipv4), [1]) == [1])
        association.close()
        try await Task.sleep(for: .milliseconds(200))
        #expect(relay.statistics.associationsOpen == 0)
        let probe = TestSockets.datagram(.ipv4, receiveTimeoutMilliseconds: 1000)
        defer { close(probe) }
        _ = rendezvous.withSockaddr { connect(probe, $0, $1) }
        let bytes = header(peers.echo.endpoint(.ipv4)) + [9]
        _ = send(probe, bytes, bytes.count, 0)
        var byte: UInt8 = 0
        #expect(recv(probe, &byte, 1, 0) == -1 && errno == ECONNREFUSED)
        await relay.stop()
    }

    @Test func anIdleAssociationIsClosed() async throws {
        let relay = try await Self.start(RelayConfiguration(listen: [.loopback(.ipv4, 0)], idleTimeout: .seconds(1)))
        let association = try UDPAssociation.open(server: relay.listening[0])
        TestSockets.setReceiveTimeout(association.controlSocket, milliseconds: 3000)
        let started = Date()
        var byte: UInt8 = 0
        #expect(recv(association.controlSocket, &byte, 1, 0) == 0, "EOF from the relay")
        #expect(Date().timeIntervalSince(started) < 2.5)
        await relay.stop()
    }

    @Test func theEngineWorksAgainstTheRelayAsAgainstDante() async throws {
        let peers = try TestPeers.shared()
        let relay = try await Self.start()
        let engine = SessionEngine(
            configuration: DeckConfiguration(servers: [
                ServerDefinition(name: "relay", host: "127.0.0.1", port: relay.listening[0].port),
                ServerDefinition(name: "relay6", host: "::1", port: relay.listening[1].port),
            ])
        )
        for (name, family) in [("relay", AddressFamily.ipv4), ("relay6", .ipv6)] {
            let id = try await engine.open(server: name)
            #expect(await engine.waitUntilSettled(id)?.state == .associated)
            #expect(
                try await engine.send(id, to: .ip(peers.echo.endpoint(family)), payload: [1, 2, 3], count: 40) == 40
            )
            let s = await SessionEngineTests.eventually(engine, id) { $0.counters.datagramsReceived == 40 }
            #expect(
                s?.counters.datagramsSent == 40 && s?.counters.datagramsReceived == 40 && s?.counters.droppedTotal == 0
            )
            await engine.close(id)
        }
        // The relay ends with the control connection: stopping it closes the association.
        let id = try await engine.open(server: "relay")
        #expect(await engine.waitUntilSettled(id)?.state == .associated)
        await relay.stop()
        await engine.shutdown()
    }

    /// The relay reads past the greeting, and so does the engine's pipelined handshake through it.
    @Test func pipelinedHandshakesFromTheLibraryAndTheEngine() async throws {
        let peers = try TestPeers.shared()
        let relay = try await Self.start()
        let association = try UDPAssociation.open(
            server: relay.listening[0],
            options: SOCKS5Options(timeoutMilliseconds: 3000, pipelining: true)
        )
        #expect(try echoOnce(association, peers.echo.endpoint(.ipv4), [7, 7, 7]) == [7, 7, 7])
        association.close()
        let engine = SessionEngine(
            configuration: DeckConfiguration(servers: [
                ServerDefinition(name: "relay", host: "127.0.0.1", port: relay.listening[0].port, pipelining: true)
            ])
        )
        let id = try await engine.open(server: "relay")
        #expect(await engine.waitUntilSettled(id, timeout: .seconds(5))?.state == .associated)
        #expect(try await engine.send(id, to: .ip(peers.echo.endpoint(.ipv4)), payload: [1, 2, 3], count: 5) == 5)
        let s = await SessionEngineTests.eventually(engine, id) { $0.counters.datagramsReceived == 5 }
        #expect(s?.counters.datagramsReceived == 5)
        await engine.shutdown()
        await relay.stop()
    }
}

/// The relay's log, kept for a test to read.
final class EventRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [RelayEvent] = []
    func add(_ event: RelayEvent) { lock.withLock { events.append(event) } }
    var all: [RelayEvent] { lock.withLock { events } }
}
