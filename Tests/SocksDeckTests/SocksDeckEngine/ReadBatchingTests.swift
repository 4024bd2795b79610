import AllocationCounter
import Foundation
import NIOCore
import NIOEmbedded
import Socks5
import Socks5NIO
import Testing

@testable import SocksDeckEngine

/// Issue 30: what one read of the data socket makes the engine send goes out in one flush (NIO
/// writes it with one sendmmsg), a send outside a read goes out at once, and an echo load that
/// asks to gather reads in batches (recvmmsg) while it runs, and only then.
@Suite(.serialized) struct ReadBatchingTests {
    static let relay = IPEndpoint("127.0.0.1:40000")!
    static let echoTarget = IPEndpoint("192.0.2.7:9999")!

    /// An associated association on an EmbeddedChannel that carries its data socket's handler.
    static func embedded() throws -> (EngineCore, Association, EmbeddedChannel) {
        let loop = EmbeddedEventLoop()
        let (core, a) = try DatagramPathAllocationTests.association(loop: loop, relay: relay)
        for state in [ControlConnectionState.negotiating, .requesting, .associated] { a.transition(to: state) }
        let channel = EmbeddedChannel(handler: RelayDatagramHandler(association: a), loop: loop)
        try channel.connect(to: relay.nioAddress).wait()
        a.data = channel
        return (core, a, channel)
    }

    /// Every datagram written and flushed so far, taken off the channel as a socket takes them.
    static func flushed(_ channel: EmbeddedChannel) throws -> [AddressedEnvelope<ByteBuffer>] {
        var all: [AddressedEnvelope<ByteBuffer>] = []
        while let e = try channel.readOutbound(as: AddressedEnvelope<ByteBuffer>.self) { all.append(e) }
        return all
    }

    /// The relay's copy of a datagram the engine sent to the echo target: the same header (the
    /// target, now the source) and payload, from the relay.
    static func echo(of sent: AddressedEnvelope<ByteBuffer>) -> AddressedEnvelope<ByteBuffer> {
        AddressedEnvelope(remoteAddress: relay.nioAddress, data: sent.data)
    }

    @Test func theEchoesOfOneReadAreAnsweredInOneFlush() throws {
        let (core, a, channel) = try Self.embedded()
        defer { a.transition(to: .closed(reason: "test over")) }
        let started = core.startEchoLoad(
            a.id,
            target: Self.echoTarget,
            count: 100,
            window: 8,
            payloadLength: 64,
            stall: .seconds(60)
        )
        guard case .success = started else {
            Issue.record("\(started)")
            return
        }
        // The first window is sent outside any read: each datagram is flushed as it is written.
        let window = try Self.flushed(channel)
        #expect(window.count == 8)
        // Eight echoes in one read: their successors wait for the read's end...
        for sent in window {
            channel.pipeline.fireChannelRead(NIOAny(Self.echo(of: sent)))
            #expect(try Self.flushed(channel).isEmpty, "a write inside a read was flushed before the read ended")
        }
        #expect(a.snapshot.counters.datagramsSent == 16, "the successors were written (and counted)")
        // ...and go out together when it ends.
        channel.pipeline.fireChannelReadComplete()
        let successors = try Self.flushed(channel)
        #expect(successors.count == 8)
        // A send of the user's, outside a read, is not held back.
        core.send(a.id, to: .ip(Self.echoTarget), payloadLength: 4, promise: nil) { $0.writeBytes([1, 2, 3, 4]) }
        #expect(try Self.flushed(channel).count == 1)
    }

    /// The echo path with its writes held back and flushed per read adds no allocation per
    /// datagram to NIO's own reading and writing: the held buffers are reused once flushed.
    @Test(.enabled(if: allocation_counter_available() == 1, "the sanitizers own malloc"))
    func theBatchedEchoPathAddsNoAllocationPerDatagram() throws {
        let (core, a, channel) = try Self.embedded()
        defer { a.transition(to: .closed(reason: "test over")) }
        guard
            case .success = core.startEchoLoad(
                a.id,
                target: Self.echoTarget,
                count: 1_000_000,
                window: 16,
                payloadLength: 64,
                stall: .seconds(60)
            )
        else {
            Issue.record("the load did not start")
            return
        }
        // The echoes in buffers of their own, as a socket read makes them: the engine's written
        // buffers are let go once flushed, as NIO lets go of what it has sent.
        // NIO's SocketAddress boxes its storage: made once, as the association makes its own.
        let relayAddress = Self.relay.nioAddress
        var echoes = (0..<16).map { _ in ByteBuffer(repeating: 0, count: 128) }
        var replies = echoes
        var inFlight = try Self.flushed(channel)
        func oneRead(_ channel: EmbeddedChannel, reply: Bool) throws {
            for (i, sent) in inFlight.enumerated() {
                echoes[i].clear()
                echoes[i].writeImmutableBuffer(sent.data)
            }
            let count = inFlight.count
            inFlight.removeAll(keepingCapacity: true)
            for i in 0..<count {
                let echo = AddressedEnvelope(remoteAddress: relayAddress, data: echoes[i])
                try channel.pipeline.syncOperations.fireChannelRead(NIOAny(echo))
            }
            // NIO alone: the same datagrams written back by hand from buffers kept for it, one
            // flush per read.
            if reply {
                for i in 0..<count {
                    replies[i].clear()
                    replies[i].writeImmutableBuffer(echoes[i])
                    channel.write(AddressedEnvelope(remoteAddress: relayAddress, data: replies[i]), promise: nil)
                }
            }
            channel.pipeline.fireChannelReadComplete()
            if reply { channel.flush() }
            while let e = try channel.readOutbound(as: AddressedEnvelope<ByteBuffer>.self) { inFlight.append(e) }
        }
        let reads = 200
        for _ in 0..<50 { try oneRead(channel, reply: false) }
        allocation_counter_start()
        for _ in 0..<reads { try oneRead(channel, reply: false) }
        let engine = Double(allocation_counter_stop()) / Double(reads * 16)
        #expect(inFlight.count == 16)

        let plain = EmbeddedChannel(handler: DatagramPathAllocationTests.TakeOnly())
        try plain.connect(to: Self.relay.nioAddress).wait()
        for _ in 0..<50 { try oneRead(plain, reply: true) }
        allocation_counter_start()
        for _ in 0..<reads { try oneRead(plain, reply: true) }
        let baseline = Double(allocation_counter_stop()) / Double(reads * 16)
        _ = try plain.finish()
        #expect(engine <= baseline, "engine \(engine) allocations per datagram, NIO alone \(baseline)")
    }

    /// Through Dante: a load that gathers reads in batches while it runs and one datagram at a
    /// time after; every echo comes back once, large ones whole (each batch slot is the
    /// configured receive buffer, so a datagram is never cut to fit a batch).
    @Test(.tags(.peers), .needsPeers, .timeLimit(.minutes(1))) func aGatheringLoadReadsInBatchesOnlyWhileItRuns()
        async throws
    {
        let peers = try TestPeers.shared()
        let (engine, id) = try await EchoLoadTests.associated(peers)
        func batchCount() async throws -> Int {
            try await engine.onLoop { core in
                guard let channel = core.associations[id]?.data else { return -1 }
                return (try? channel.syncOptions?.getOption(.datagramVectorReadMessageCount)) ?? -1
            }
        }
        #expect(try await batchCount() == 0)
        let load = Task {
            try await engine.measureEcho(
                id,
                count: 20_000,
                window: 32,
                payloadLength: 64,
                gathering: .microseconds(100)
            )
        }
        var seen = 0
        for _ in 0..<200 where seen == 0 {
            let count = try await batchCount()
            if count > 0 { seen = count } else { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(seen == DataSocketChannel.batchReadCount, "the load's reads were never batched")
        let measured = try await load.value
        #expect(measured.echoed == 20_000 && measured.lost == 0, "\(measured)")
        #expect(try await batchCount() == 0, "reads stayed batched after the load")

        // A window the kernel's default socket buffers hold at this size: a loss here is ours.
        let large = try await engine.measureEcho(
            id,
            count: 300,
            window: 4,
            payloadLength: 30_000,
            gathering: .microseconds(100)
        )
        #expect(large.echoed == 300 && large.lost == 0, "\(large)")
        let counters = try #require(await engine.snapshot(id)?.counters)
        #expect(counters.droppedTotal == 0, "\(counters.drops)")
        await engine.shutdown()
    }
}
