import AllocationCounter
import NIOCore
import NIOEmbedded
import Socks5
import Socks5NIO
import Testing

@testable import SocksDeckEngine

/// The engine's receive path (source check, header parse, counters, recent-datagram ring, rate
/// meters, probe matching) adds no heap allocation to what SwiftNIO's own read path makes.
/// Measured on an EmbeddedChannel in this thread: the same datagrams through the engine's
/// handler and through a handler that only takes them, and the counts compared.
@Suite(.serialized) struct DatagramPathAllocationTests {
    let relay = IPEndpoint("127.0.0.1:40000")!

    /// N datagrams as the relay sends them: a header for 192.0.2.7:9999, then `payload`.
    func datagrams(_ count: Int, payload: [UInt8]) -> [AddressedEnvelope<ByteBuffer>] {
        let header = UDPDatagramHeader(address: .ip(IPEndpoint("192.0.2.7:9999")!))
        return (0..<count).map { _ in
            var buffer = ByteBuffer()
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: header.encodedLength) { header.write(into: $0) }
            buffer.writeBytes(payload)
            return AddressedEnvelope(remoteAddress: relay.nioAddress, data: buffer)
        }
    }

    /// Allocations per datagram for `handler`, after a warm-up (first-use storage is not the path).
    func allocationsPerDatagram(_ handler: ChannelHandler, payload: [UInt8]) throws -> Double {
        let channel = EmbeddedChannel(handler: handler)
        for envelope in datagrams(200, payload: payload) { try channel.writeInbound(envelope) }
        let measured = datagrams(2000, payload: payload)
        allocation_counter_start()
        for envelope in measured { try channel.writeInbound(envelope) }
        let count = allocation_counter_stop()
        _ = try channel.finish()
        return Double(count) / Double(measured.count)
    }

    func association(loop: EventLoop) throws -> Association { try Self.association(loop: loop, relay: relay).1 }

    /// An association registered with a new engine core (which the caller keeps: the association
    /// holds it weakly), its rendezvous `relay`.
    static func association(loop: EventLoop, relay: IPEndpoint) throws -> (EngineCore, Association) {
        let core = EngineCore(loop: loop, viewRevision: ViewRevision(), eventLogCapacity: 16, capture: .off)
        let a = Association(
            id: AssociationID(1),
            server: ServerDefinition(name: "t", host: "127.0.0.1", port: 1080),
            family: .ipv4,
            engine: core,
            eventLoop: loop
        )
        a.rendezvous = try RendezvousAddress(reply: .ip(relay), server: relay)
        core.associations[a.id] = a
        return (core, a)
    }

    final class TakeOnly: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { _ = unwrapInboundIn(data) }
    }

    @Test(
        .enabled(if: allocation_counter_available() == 1, "the sanitizers own malloc"),
        arguments: [[UInt8](repeating: 0x42, count: 64), [UInt8](repeating: 7, count: 1200)]
    )
    func receivingAddsNoAllocationToNIOs(payload: [UInt8]) throws {
        let loop = EmbeddedEventLoop()
        let a = try association(loop: loop)
        defer { a.transition(to: .closed(reason: "test over")) }
        let baseline = try allocationsPerDatagram(TakeOnly(), payload: payload)
        let engine = try allocationsPerDatagram(RelayDatagramHandler(association: a), payload: payload)
        #expect(engine <= baseline, "engine \(engine) allocations per datagram, NIO alone \(baseline)")
        #expect(a.snapshot.counters.datagramsReceived == 2200)
    }

    /// Probe echoes take the longer way (prefix check, sequence lookup, RTT buckets): still none.
    @Test(.enabled(if: allocation_counter_available() == 1, "the sanitizers own malloc"))
    func probeEchoesAddNoAllocation() throws {
        let loop = EmbeddedEventLoop()
        let a = try association(loop: loop)
        defer { a.transition(to: .closed(reason: "test over")) }
        a.subscribe(HealthProbe(target: IPEndpoint("192.0.2.7:9999")!, interval: .seconds(1), associationID: 1))
        var echo = HealthProbe.magic
        withUnsafeBytes(of: UInt64(1).bigEndian) { echo += $0 }
        withUnsafeBytes(of: UInt64(5).bigEndian) { echo += $0 }
        let baseline = try allocationsPerDatagram(TakeOnly(), payload: echo)
        let engine = try allocationsPerDatagram(RelayDatagramHandler(association: a), payload: echo)
        #expect(engine <= baseline, "engine \(engine) allocations per datagram, NIO alone \(baseline)")
    }
}

/// The engine's send path with nobody waiting (the health probe, replay): header and payload
/// into the association's pooled buffer, one write, the counters. It adds no allocation to NIO's
/// own write of a ready envelope on the same channel.
@Suite(.serialized) struct SendPathAllocationTests {
    let relay = IPEndpoint("127.0.0.1:40000")!
    let target = SOCKSAddress.ip(IPEndpoint("192.0.2.7:9999")!)

    /// Allocations per datagram of `send`, after a warm-up; each written datagram taken off the
    /// channel, as a socket would take it.
    func allocationsPerDatagram(_ channel: EmbeddedChannel, _ send: () -> Void) throws -> Double {
        for _ in 0..<200 {
            send()
            _ = try channel.readOutbound(as: AddressedEnvelope<ByteBuffer>.self)
        }
        let count = 2000
        allocation_counter_start()
        for _ in 0..<count {
            send()
            _ = try channel.readOutbound(as: AddressedEnvelope<ByteBuffer>.self)
        }
        return Double(allocation_counter_stop()) / Double(count)
    }

    @Test(
        .enabled(if: allocation_counter_available() == 1, "the sanitizers own malloc"),
        arguments: [64, 1200]
    )
    func sendingWithNobodyWaitingAddsNoAllocationToNIOs(size: Int) throws {
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(loop: loop)
        try channel.connect(to: relay.nioAddress).wait()
        let (core, a) = try DatagramPathAllocationTests.association(loop: loop, relay: relay)
        for state in [ControlConnectionState.negotiating, .requesting, .associated] { a.transition(to: state) }
        a.data = channel
        defer { a.transition(to: .closed(reason: "test over")) }

        var ready = ByteBuffer()
        ready.writeBytes([UInt8](repeating: 7, count: size + 10))
        let envelope = AddressedEnvelope(remoteAddress: relay.nioAddress, data: ready)
        let baseline = try allocationsPerDatagram(channel) { channel.writeAndFlush(envelope, promise: nil) }
        let payload = [UInt8](repeating: 0x42, count: size)
        let engine = try allocationsPerDatagram(channel) {
            core.send(a.id, to: target, payloadLength: size, promise: nil) { $0.writeBytes(payload) }
        }
        #expect(engine <= baseline, "engine \(engine) allocations per datagram, NIO alone \(baseline)")
        #expect(a.snapshot.counters.datagramsSent == 2200 && a.snapshot.counters.bytesSent == 2200 * size)
    }
}
