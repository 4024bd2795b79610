import Foundation
import NIOPosix
import ProcessPolicy
import Socks5
import SocksDeckEngine
import Testing

@testable import SocksDeckRelay

/// The relay against clients that try to hold it (issue 33), over real sockets on loopback: idle
/// connections that never negotiate, a client that opens connections without end, one that opens
/// associations without end, and a slow but honest client that must still get through. Each
/// loop is bounded in count; every wait has a deadline.
@Suite(.tags(.peers), .needsPeers, .serialized) struct RelayHostileClientTests {
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    /// A TCP connection to `server` from `source` (any address of 127/8 is this machine's), or -1.
    static func connection(to server: IPEndpoint, from source: IPAddress? = nil) -> Int32 {
        let fd = TestSockets.stream(server.family)
        if let source {
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            guard IPEndpoint(source, port: 0).withSockaddr({ bind(fd, $0, $1) }) == 0 else {
                close(fd)
                return -1
            }
        }
        guard server.withSockaddr({ connect(fd, $0, $1) }) == 0 else {
            close(fd)
            return -1
        }
        return fd
    }

    /// Whether the relay has ended this connection: EOF or a reset, read without waiting.
    static func isClosedByRelay(_ fd: Int32) -> Bool {
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, Int32(MSG_DONTWAIT))
        return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    }

    /// Polls `condition` every 20 ms until it holds or `seconds` pass.
    static func eventually(within seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            if Date() > deadline { return false }
            usleep(20_000)
        }
        return true
    }

    /// One datagram tagged `tag` to the echo target and back. Replies with another tag (a late
    /// answer to an earlier echo) are passed over. The wait is long: closing 3,000 connections at
    /// once keeps the test relay's one event loop busy for seconds under the sanitizers.
    static func echo(_ association: borrowing UDPAssociation, _ target: IPEndpoint, _ tag: UInt8) -> Bool {
        TestSockets.setReceiveTimeout(association.dataSocket, milliseconds: 8000)
        guard (try? association.send([tag], to: .ip(target))) != nil else { return false }
        var buffer = [UInt8](repeating: 0, count: 64)
        for _ in 0..<64 {
            guard let d = try? buffer.withUnsafeMutableBytes({ try association.receive(into: $0) }) else {
                return false
            }
            if d.length == 1 && buffer[0] == tag { return true }
        }
        return false
    }

    /// 3,000 connections that never send a byte, from 60 client addresses (50 each, under the
    /// per-client bound), are all closed after the negotiation timeout and counted, while an
    /// association opened before the flood keeps relaying during and after it.
    @Test func aFloodOfIdleConnectionsIsClosedAtTheTimeoutWhileAnAssociationWorks() async throws {
        // The test process holds both ends of every connection: 6,000 descriptors and more.
        DescriptorLimit.raise(toAtLeast: 8_000)
        let peers = try TestPeers.shared()
        let echo = peers.echo.endpoint(.ipv4)
        let timeout = Duration.seconds(2)
        let relay = try await RelayServer.start(
            RelayConfiguration(listen: [.loopback(.ipv4, 0)], negotiationTimeout: timeout),
            group: Self.group
        )
        let server = relay.listening[0]
        let association = try UDPAssociation.open(server: server)
        let echoedBefore = Self.echo(association, echo, 0)
        #expect(echoedBefore)

        var idle: [Int32] = []
        defer { for fd in idle { close(fd) } }
        var tag: UInt8 = 1
        var echoes = (tried: 0, answered: 0)
        for i in 0..<3_000 {
            let source = IPAddress.v4(IPv4Address(127, 0, UInt8(1 + i / 50), UInt8(1 + i % 50)))
            let fd = Self.connection(to: server, from: source)
            try #require(fd >= 0, "connection \(i) from \(source): errno \(errno)")
            idle.append(fd)
            if i % 500 == 499 {
                echoes.tried += 1
                if Self.echo(association, echo, tag) { echoes.answered += 1 }
                tag &+= 1
            }
        }
        let opened = Date()
        #expect(echoes.answered == echoes.tried, "the association relays during the flood: \(echoes)")
        // Those opened last, well within their timeout, are still open: a slow client is not cut.
        #expect(idle.suffix(100).allSatisfy { !Self.isClosedByRelay($0) })
        #expect(relay.statistics.connectionsOverClientLimit == 0)

        // Then every one is closed by the relay, within the timeout and a margin for 3,000 closes
        // on one loop (seconds under the sanitizers).
        var stillOpen = idle.count
        while Date().timeIntervalSince(opened) < 2 + 20 {
            stillOpen = idle.filter { !Self.isClosedByRelay($0) }.count
            if stillOpen == 0 { break }
            let echoedDuring = Self.echo(association, echo, tag)
            #expect(echoedDuring, "the association relays while the flood is closed")
            tag &+= 1
            usleep(200_000)
        }
        stillOpen = idle.filter { !Self.isClosedByRelay($0) }.count
        #expect(stillOpen == 0, "\(stillOpen) idle connections still open")
        #expect(relay.statistics.negotiationTimeouts == 3_000)
        let echoedAfter = Self.echo(association, echo, tag)
        #expect(echoedAfter, "and after it")
        #expect(relay.statistics.associationsOpen == 1)
        association.close()
        await relay.stop()
    }

    /// One client address that opens connections without end is refused past its bound (64 by
    /// default), logged once; another client is served throughout; slots come back as they close.
    @Test func aClientOpeningConnectionsWithoutEndIsRefusedPastItsBound() async throws {
        let peers = try TestPeers.shared()
        let echo = peers.echo.endpoint(.ipv4)
        let events = EventRecorder()
        let relay = try await RelayServer.start(
            RelayConfiguration(listen: [.loopback(.ipv4, 0)]),
            group: Self.group,
            log: { events.add($0) }
        )
        let server = relay.listening[0]
        let flooder = IPAddress.v4(IPv4Address(127, 0, 0, 3))
        let bound = RelayConfiguration.ClientLimits().negotiatingConnections
        var fds: [Int32] = []
        defer { for fd in fds { close(fd) } }
        for _ in 0..<(bound + 136) {
            let fd = Self.connection(to: server, from: flooder)
            try #require(fd >= 0)
            fds.append(fd)
        }
        #expect(Self.eventually(within: 5) { relay.statistics.connectionsOverClientLimit == 136 })
        #expect(Self.eventually(within: 5) { fds.filter(Self.isClosedByRelay).count == 136 })
        #expect(fds.filter { !Self.isClosedByRelay($0) }.count == bound)
        // Others are served: an association from 127.0.0.1, through to the echo target.
        let association = try UDPAssociation.open(server: server)
        let echoedBeside = Self.echo(association, echo, 7)
        #expect(echoedBeside)
        association.close()
        let refusals = events.all.filter { $0.kind == .refused }
        #expect(refusals.count == 1, "logged once a minute per client: \(refusals.map(\.message))")
        #expect(
            refusals.first?.message.contains(
                "client 127.0.0.3 already has the most connections still negotiating (\(bound),"
            ) == true
        )
        // The flooder's open connections closed, it may negotiate again.
        for fd in fds { close(fd) }
        fds = []
        let again = Self.connection(to: server, from: flooder)
        defer { close(again) }
        usleep(100_000)
        #expect(again >= 0 && !Self.isClosedByRelay(again))
        await relay.stop()
    }

    /// Past the bound of associations per client, UDP ASSOCIATE gets REP 2 (S5_EPERM in the
    /// library); another client address still associates; a closed association frees its slot.
    @Test func aClientPastItsBoundOfAssociationsGetsREP2() async throws {
        let peers = try TestPeers.shared()
        let relay = try await RelayServer.start(
            RelayConfiguration(
                listen: [.loopback(.ipv4, 0), .loopback(.ipv6, 0)],
                clientLimits: RelayConfiguration.ClientLimits(associations: 3)
            ),
            group: Self.group
        )
        let v4 = relay.listening[0]
        let first = try UDPAssociation.open(server: v4)
        let second = try UDPAssociation.open(server: v4)
        let third = try UDPAssociation.open(server: v4)
        #expect { try UDPAssociation.open(server: v4) } throws: { ($0 as? SOCKS5Error)?.code == .notAllowed }
        #expect(relay.statistics.associationsOverClientLimit == 1 && relay.statistics.associationsOpen == 3)
        // ::1 is another client address.
        let other = try UDPAssociation.open(server: relay.listening[1])
        let echoedOther = Self.echo(other, peers.echo.endpoint(.ipv6), 6)
        #expect(echoedOther)
        other.close()
        third.close()
        #expect(Self.eventually(within: 3) { relay.statistics.associationsOpen == 2 })
        let next = try UDPAssociation.open(server: v4)
        let echoedNext = Self.echo(next, peers.echo.endpoint(.ipv4), 4)
        #expect(echoedNext)
        next.close()
        first.close()
        second.close()
        await relay.stop()
    }

    /// A client that sends greeting, login and request one byte every 100 ms (1.8 s in all)
    /// completes under a 3 s negotiation timeout, and its association outlives that timeout.
    @Test func aSlowButHonestClientCompletesAndKeepsItsAssociation() async throws {
        let peers = try TestPeers.shared()
        let echo = peers.echo.endpoint(.ipv4)
        let credentials = Credentials(username: "u", password: "p")!
        let relay = try await RelayServer.start(
            RelayConfiguration(
                listen: [.loopback(.ipv4, 0)],
                credentials: credentials,
                negotiationTimeout: .seconds(3)
            ),
            group: Self.group
        )
        let control = Self.connection(to: relay.listening[0])
        try #require(control >= 0)
        defer { close(control) }
        TestSockets.setReceiveTimeout(control, milliseconds: 3000)
        let started = Date()
        let bytes: [UInt8] =
            [5, 1, 2] + [1, 1, UInt8(ascii: "u"), 1, UInt8(ascii: "p")] + [5, 3, 0, 1, 0, 0, 0, 0, 0, 0]
        for byte in bytes {
            #expect(send(control, [byte], 1, 0) == 1)
            usleep(100_000)
        }
        var replies = [UInt8](repeating: 0, count: 2 + 2 + 10)
        #expect(recv(control, &replies, replies.count, Int32(MSG_WAITALL)) == replies.count)
        #expect(Array(replies[0..<5]) == [5, 2, 1, 0, 5] && replies[5] == 0, "method, login, success: \(replies)")
        let rendezvous = IPEndpoint(
            .v4(IPv4Address(replies[8], replies[9], replies[10], replies[11])),
            port: UInt16(replies[12]) << 8 | UInt16(replies[13])
        )
        // Past the negotiation timeout, counted from the connection: still up, still relaying.
        let remaining = 3.5 - Date().timeIntervalSince(started)
        if remaining > 0 { usleep(UInt32(remaining * 1_000_000)) }
        #expect(!Self.isClosedByRelay(control))
        let data = TestSockets.datagram(.ipv4, receiveTimeoutMilliseconds: 2000)
        defer { close(data) }
        var datagram = [UInt8](repeating: 0, count: 32)
        let headerLength = datagram.withUnsafeMutableBytes {
            UDPDatagramHeader(fragment: 0, address: .ip(echo)).write(into: $0)
        }
        datagram = Array(datagram[0..<headerLength]) + [42]
        _ = rendezvous.withSockaddr { sendto(data, datagram, datagram.count, 0, $0, $1) }
        var back = [UInt8](repeating: 0, count: 64)
        #expect(recv(data, &back, back.count, 0) == headerLength + 1 && back[headerLength] == 42)
        #expect(relay.statistics.negotiationTimeouts == 0)
        await relay.stop()
    }
}
