import Foundation
import NIOPosix
import Socks5
import Testing

@testable import SocksDeckRelay

/// `serve` as a simulator of other relays: `--latency` (a distant relay on loopback, for machines
/// without netem) and `--cut-datagrams` (a relay with a small buffer). Lower bounds only: a delay
/// can only add time, so these hold however loaded the machine is.
@Suite(.tags(.peers), .needsPeers, .serialized) struct RelaySimulationTests {
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    @Test func latencyDelaysEveryControlMessageAndDatagramEachWayAndKeepsOrder() async throws {
        let peers = try TestPeers.shared()
        let echo = peers.echo.endpoint(.ipv4)
        let relay = try await RelayServer.start(
            RelayConfiguration(listen: [.loopback(.ipv4, 0)], latency: .milliseconds(50)),
            group: Self.group
        )
        // Two messages from the relay (method selection, reply): 100 ms at least.
        let opening = ContinuousClock.now
        let association = try UDPAssociation.open(server: relay.listening[0])
        let setup = ContinuousClock.now - opening
        #expect(setup >= .milliseconds(100), "\(setup)")
        TestSockets.setReceiveTimeout(association.dataSocket, milliseconds: 3000)
        // Thirty datagrams sent at once come back after 100 ms at least (50 each way), in order.
        let sending = ContinuousClock.now
        for i in 0..<30 { try association.send([UInt8(i)], to: .ip(echo)) }
        var order: [UInt8] = []
        var firstBack: Duration?
        var buffer = [UInt8](repeating: 0, count: 64)
        for _ in 0..<30 {
            guard let d = try? buffer.withUnsafeMutableBytes({ try association.receive(into: $0) }), d.length == 1
            else { break }
            firstBack = firstBack ?? ContinuousClock.now - sending
            order.append(buffer[0])
        }
        #expect(order == (0..<30).map(UInt8.init), "\(order)")
        #expect((firstBack ?? .zero) >= .milliseconds(100), "\(String(describing: firstBack))")
        association.close()
        await relay.stop()
    }

    @Test func cutDatagramsCutsBothWaysAndCounts() async throws {
        let peers = try TestPeers.shared()
        let relay = try await RelayServer.start(
            RelayConfiguration(listen: [.loopback(.ipv4, 0)], cutDatagramsAt: 100),
            group: Self.group
        )
        let association = try UDPAssociation.open(server: relay.listening[0])
        TestSockets.setReceiveTimeout(association.dataSocket, milliseconds: 3000)
        let payload = (0..<300).map { UInt8(truncatingIfNeeded: $0) }
        try association.send(payload, to: .ip(peers.echo.endpoint(.ipv4)))
        var buffer = [UInt8](repeating: 0, count: 512)
        let d = try buffer.withUnsafeMutableBytes { try association.receive(into: $0) }
        #expect(d.length == 100 && Array(buffer[0..<100]) == Array(payload[0..<100]))
        #expect(relay.statistics.datagramsCut == 1, "cut on the way out; the echo of 100 bytes needs no cut")
        association.close()
        await relay.stop()
    }

    /// CONNECT through a relay with latency to a server that speaks first: its banner reaches the
    /// client (the success reply leaves at once, so the splice has no window to lose it in).
    @Test func latencyLosesNothingOfAConnectToAServerThatSpeaksFirst() async throws {
        let listener = TestSockets.stream(.ipv4)
        defer { close(listener) }
        _ = IPEndpoint.loopback(.ipv4, 0).withSockaddr { bind(listener, $0, $1) }
        listen(listener, 4)
        let target = TestSockets.localEndpoint(listener)!
        let speaker = Thread {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { return }
            let banner = Array("220 banner\r\n".utf8)
            _ = send(fd, banner, banner.count, 0)
            usleep(500_000)
            close(fd)
        }
        speaker.start()
        let relay = try await RelayServer.start(
            RelayConfiguration(listen: [.loopback(.ipv4, 0)], latency: .milliseconds(100)),
            group: Self.group
        )
        let fd = TestSockets.stream(.ipv4)
        defer { close(fd) }
        _ = try SOCKS5Client.connect(controlSocket: fd, server: relay.listening[0], target: .ip(target))
        TestSockets.setReceiveTimeout(fd, milliseconds: 3000)
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = recv(fd, &buffer, 64, Int32(MSG_WAITALL))
        #expect(n >= 12 && String(decoding: buffer[0..<12], as: UTF8.self) == "220 banner\r\n", "\(n)")
        await relay.stop()
    }
}
