import NIOCore
import NIOEmbedded
import Socks5
import Socks5NIO
import Testing

@testable import SocksDeckEngine

/// The control connection's handler on an EmbeddedChannel, as NIOSOCKS tests its own: bytes in,
/// bytes and events out, every phase reported once, with and without pipelining.
@Suite struct ControlConnectionHandlerTests {
    final class Recorder {
        var events: [String] = []
        var traffic: [String] = []
    }

    static func channel(
        credentials: Credentials? = nil,
        pipelining: Bool = false,
        capture: Bool = false
    ) throws -> (EmbeddedChannel, Recorder) {
        let recorder = Recorder()
        let handler = ControlConnectionHandler(
            timeout: .seconds(5),
            makeMachine: { _ in
                ClientHandshake(
                    command: .udpAssociate,
                    address: .unspecified(.ipv4),
                    credentials: credentials,
                    pipelining: pipelining
                )
            },
            report: { event in
                switch event {
                case .progressed(let state): recorder.events.append(state.name)
                case .bound(let reply): recorder.events.append("bound \(reply.boundAddress)")
                case .established(let reply): recorder.events.append("established \(reply.boundAddress)")
                case .failed(let error): recorder.events.append("failed \(error.decoded.name)")
                case .closed(let reason): recorder.events.append("closed: \(reason)")
                case .unexpectedBytes(let bytes): recorder.events.append("unexpected \(bytes.count)")
                }
            },
            observe: capture
                ? { traffic in
                    switch traffic {
                    case .opened: recorder.traffic.append("opened")
                    case .sent(let b): recorder.traffic.append("sent \(b.count)")
                    case .received(let b, let meaning): recorder.traffic.append("received \(b.count) \(meaning ?? "-")")
                    case .ended(let reason): recorder.traffic.append("ended: \(reason)")
                    }
                } : nil
        )
        let channel = EmbeddedChannel(handler: handler)
        channel.localAddress = IPEndpoint("127.0.0.1:50000")!.nioAddress
        try channel.connect(to: IPEndpoint("127.0.0.1:1080")!.nioAddress).wait()
        return (channel, recorder)
    }

    static let reply: [UInt8] = [5, 0, 0, 1, 127, 0, 0, 1, 0x1F, 0x90]

    func outbound(_ channel: EmbeddedChannel) throws -> [UInt8] {
        var all: [UInt8] = []
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
            all += buffer.readBytes(length: buffer.readableBytes) ?? []
        }
        return all
    }

    @Test func withoutAuthenticationTheGreetingThenTheRequest() throws {
        let (channel, recorder) = try Self.channel()
        #expect(try outbound(channel) == [5, 1, 0])
        try channel.writeInbound(ByteBuffer(bytes: [5, 0]))
        #expect(try outbound(channel) == [5, 3, 0, 1, 0, 0, 0, 0, 0, 0])
        try channel.writeInbound(ByteBuffer(bytes: Self.reply))
        #expect(recorder.events == ["negotiating", "requesting", "established 127.0.0.1:8080"])
        _ = try channel.finish()
    }

    /// Pipelined, the request leaves with the greeting, and the method selection alone moves the
    /// handshake to the reply: "requesting" is reported all the same (it was not, before).
    @Test func pipelinedTheRequestingPhaseIsStillReported() throws {
        let (channel, recorder) = try Self.channel(pipelining: true)
        #expect(try outbound(channel) == [5, 1, 0, 5, 3, 0, 1, 0, 0, 0, 0, 0, 0])
        try channel.writeInbound(ByteBuffer(bytes: [5, 0]))
        #expect(try outbound(channel).isEmpty)
        #expect(recorder.events == ["negotiating", "requesting"])
        try channel.writeInbound(ByteBuffer(bytes: Self.reply))
        #expect(recorder.events.last == "established 127.0.0.1:8080")
        _ = try channel.finish()
    }

    /// A server that answers the pipelined greeting and request in one segment (SocksDeck's own
    /// relay does): the phases are reported in order all the same, and the association settles.
    @Test func methodSelectionAndReplyInOneRead() throws {
        let (channel, recorder) = try Self.channel(pipelining: true)
        _ = try outbound(channel)
        try channel.writeInbound(ByteBuffer(bytes: [5, 0] + Self.reply))
        #expect(recorder.events == ["negotiating", "requesting", "established 127.0.0.1:8080"])
        _ = try channel.finish()
    }

    @Test func authenticationIsItsOwnPhaseAndARefusalFailsOnce() throws {
        let credentials = Credentials(username: "u", password: "p")!
        let (channel, recorder) = try Self.channel(credentials: credentials)
        #expect(try outbound(channel) == [5, 2, 0, 2])
        try channel.writeInbound(ByteBuffer(bytes: [5, 2]))
        #expect(try outbound(channel) == [1, 1, UInt8(ascii: "u"), 1, UInt8(ascii: "p")])
        try channel.writeInbound(ByteBuffer(bytes: [1, 1]))  // refused
        #expect(recorder.events == ["negotiating", "authenticating", "failed S5_EAUTH"])
        #expect(!channel.isActive)
    }

    /// The reply one byte at a time, then bytes after it: still one establishment, and the extra
    /// bytes reported, not parsed; with a capture, every byte is observed with its meaning.
    @Test func aReplyByteByByteAndBytesAfterIt() throws {
        let (channel, recorder) = try Self.channel(capture: true)
        _ = try outbound(channel)
        try channel.writeInbound(ByteBuffer(bytes: [5, 0]))
        _ = try outbound(channel)
        for byte in Self.reply { try channel.writeInbound(ByteBuffer(bytes: [byte])) }
        try channel.writeInbound(ByteBuffer(bytes: [9, 9, 9]))
        #expect(recorder.events == ["negotiating", "requesting", "established 127.0.0.1:8080", "unexpected 3"])
        #expect(recorder.traffic.first == "opened")
        #expect(recorder.traffic.contains("received 1 the UDP ASSOCIATE reply: BND 127.0.0.1:8080"))
        #expect(recorder.traffic.filter { $0.hasPrefix("received 1 ") }.count == Self.reply.count)
        #expect(recorder.traffic.last?.hasPrefix("received 3 unexpected") == true)
        _ = try channel.finish()
        #expect(recorder.traffic.last == "ended: the server closed the control connection (EOF)")
        #expect(recorder.events.last == "closed: the server closed the control connection (EOF)")
    }
}
