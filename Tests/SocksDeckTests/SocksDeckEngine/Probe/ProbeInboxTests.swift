import Foundation
import NIOCore
import NIOPosix
import Socks5
import Socks5NIO
import Testing

@testable import SocksDeckEngine

/// The probe's inbox on a real data socket (the engine's binding, a loopback sender): items in
/// order, a deadline that ends a wait with nothing, and the channel's end.
@Suite struct ProbeInboxTests {
    @Test func itemsComeInOrderThenTheWaitTimesOutThenTheEndIsSeen() async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let inbox = ProbeInbox<AddressedEnvelope<ByteBuffer>>(loop: loop)
        let channel = try await DataSocketChannel.bind(on: loop, receiveBufferBytes: 2048) { inbox }.get()
        let port = try #require(IPEndpoint(channel.localAddress)).port
        let sender = TestSockets.datagram(.ipv4)
        defer { close(sender) }
        for text in ["one", "two"] {
            let sent = IPEndpoint.loopback(.ipv4, port).withSockaddr {
                sendto(sender, text, text.utf8.count, 0, $0, $1)
            }
            #expect(sent == text.utf8.count)
        }
        var read: [String] = []
        for _ in 0..<2 {
            guard case .item(let envelope) = await inbox.next(within: .seconds(5)) else { break }
            read.append(String(buffer: envelope.data))
        }
        #expect(read == ["one", "two"])
        guard case .timedOut = await inbox.next(within: .milliseconds(50)) else {
            Issue.record("a wait with nothing to read must time out")
            return
        }
        try await channel.close()
        guard case .ended = await inbox.next(within: .seconds(5)) else {
            Issue.record("a closed channel's inbox must say it ended")
            return
        }
    }

    /// A stream's inbox ends when the peer closes, with what it sent before still delivered.
    @Test func aStreamsBytesBeforeItsEOFAreDelivered() async throws {
        let server = ScriptedServer(script: [.send([0x05, 0x00])])
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let connection = try await CapabilityProbe.OfferConnection.connect(
            to: server.endpoint,
            on: loop,
            timeout: .seconds(5)
        ).get()
        let (bytes, closed) = await connection.read(4, within: .seconds(5))
        #expect(bytes == [0x05, 0x00] && closed)
    }
}
