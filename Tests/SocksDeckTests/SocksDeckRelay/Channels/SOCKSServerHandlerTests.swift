import NIOCore
import NIOEmbedded
import Socks5
import Socks5NIO
import Testing

@testable import SocksDeckRelay

/// The relay's control-connection handler on an EmbeddedChannel (as NIOSOCKS tests its own):
/// bytes in, bytes out, the refusals and their statistics, no socket.
@Suite struct SOCKSServerHandlerTests {
    static func channel(_ configuration: RelayConfiguration) throws -> (EmbeddedChannel, StatisticsBox) {
        let statistics = StatisticsBox()
        let handler = SOCKSServerHandler(configuration: configuration, statistics: statistics, log: { _ in })
        let channel = EmbeddedChannel(handler: handler)
        channel.localAddress = IPEndpoint("127.0.0.1:1080")!.nioAddress
        try channel.connect(to: IPEndpoint("127.0.0.1:50000")!.nioAddress).wait()
        return (channel, statistics)
    }

    static let plain = RelayConfiguration(listen: [IPEndpoint("127.0.0.1:1080")!])

    func written(_ channel: EmbeddedChannel) throws -> [UInt8] {
        var all: [UInt8] = []
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
            all += buffer.readBytes(length: buffer.readableBytes) ?? []
        }
        return all
    }

    @Test func bindIsAnsweredWithRep7AndTheConnectionEnds() throws {
        let (channel, statistics) = try Self.channel(Self.plain)
        try channel.writeInbound(ByteBuffer(bytes: [5, 1, 0]))
        #expect(try written(channel) == [5, 0])
        try channel.writeInbound(ByteBuffer(bytes: [5, 2, 0, 1, 0, 0, 0, 0, 0, 0]))
        #expect(try written(channel) == [5, 7, 0, 1, 0, 0, 0, 0, 0, 0])
        #expect(!channel.isActive)
        #expect(statistics.value.refusals == 1 && statistics.value.connectionsAccepted == 1)
    }

    @Test func noUDPAnswersUDPAssociateWithRep7() throws {
        var configuration = Self.plain
        configuration.udpEnabled = false
        let (channel, statistics) = try Self.channel(configuration)
        try channel.writeInbound(ByteBuffer(bytes: [5, 1, 0, 5, 3, 0, 1, 0, 0, 0, 0, 0, 0]))
        #expect(try written(channel) == [5, 0, 5, 7, 0, 1, 0, 0, 0, 0, 0, 0])
        #expect(!channel.isActive)
        #expect(statistics.value.associationsOpened == 0)
    }

    @Test func aWrongPasswordIsRefusedAfterTheMethodSelection() throws {
        var configuration = Self.plain
        configuration.credentials = Credentials(username: "u", password: "right")
        let (channel, statistics) = try Self.channel(configuration)
        try channel.writeInbound(ByteBuffer(bytes: [5, 1, 2]))
        #expect(try written(channel) == [5, 2])
        try channel.writeInbound(ByteBuffer(bytes: [1, 1, UInt8(ascii: "u"), 5] + Array("wrong".utf8)))
        #expect(try written(channel) == [1, 1])
        #expect(!channel.isActive)
        #expect(statistics.value.refusals == 1)
    }

    @Test func aClientOfferingNoAcceptableMethodGetsFF() throws {
        var configuration = Self.plain
        configuration.credentials = Credentials(username: "u", password: "p")
        let (channel, _) = try Self.channel(configuration)
        try channel.writeInbound(ByteBuffer(bytes: [5, 1, 0]))
        #expect(try written(channel) == [5, 0xFF])
        #expect(!channel.isActive)
    }
}
