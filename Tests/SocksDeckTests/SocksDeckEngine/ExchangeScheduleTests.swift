import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Socks5
import Socks5NIO
import Testing

@testable import SocksDeckEngine

/// A check's exchange on virtual time (an EmbeddedEventLoop): the request goes at each of its
/// send times, a reply ends the wait with the number of sends, no reply ends it at the give-up
/// time and not before, and an association that ends takes its waiting exchanges with it.
@Suite struct ExchangeScheduleTests {
    let relay = IPEndpoint("127.0.0.1:40000")!
    let target = SOCKSAddress.ip(IPEndpoint("192.0.2.53:53")!)

    /// An associated association whose data socket is an EmbeddedChannel on `loop`.
    func associated(_ loop: EmbeddedEventLoop) throws -> (EngineCore, Association, EmbeddedChannel) {
        let (core, association) = try DatagramPathAllocationTests.association(loop: loop, relay: relay)
        for state in [ControlConnectionState.negotiating, .requesting, .associated] {
            association.transition(to: state)
        }
        let channel = EmbeddedChannel(handler: RelayDatagramHandler(association: association), loop: loop)
        association.data = channel
        return (core, association, channel)
    }

    func sent(_ channel: EmbeddedChannel) throws -> Int {
        var count = 0
        while try channel.readOutbound(as: AddressedEnvelope<ByteBuffer>.self) != nil { count += 1 }
        return count
    }

    /// Starts the exchange; the box holds its outcome once it has one (nil inside: no reply).
    func exchange(_ core: EngineCore, _ id: AssociationID) throws -> NIOLockedValueBox<ExchangeReply??> {
        let outcome = NIOLockedValueBox<ExchangeReply??>(nil)
        try core.exchange(
            id,
            to: target,
            request: [1, 2, 3],
            sendAt: [.zero, .milliseconds(500)],
            giveUpAt: .seconds(2),
            accepts: { $0 == [9, 9] }
        ).get().whenSuccess { reply in outcome.withLockedValue { $0 = .some(reply) } }
        return outcome
    }

    @Test func aReplyAfterTheResendEndsTheWaitWithTwoSends() throws {
        let loop = EmbeddedEventLoop()
        let (core, association, channel) = try associated(loop)
        let outcome = try exchange(core, association.id)
        loop.run()
        #expect(try sent(channel) == 1)
        loop.advanceTime(by: .milliseconds(499))
        #expect(try sent(channel) == 0)
        loop.advanceTime(by: .milliseconds(1))
        #expect(try sent(channel) == 1)
        // Not the answer, then the answer.
        let header = UDPDatagramHeader(address: target)
        for payload in [[7, 7], [9, 9]] as [[UInt8]] {
            var buffer = ByteBuffer()
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: header.encodedLength) { header.write(into: $0) }
            buffer.writeBytes(payload)
            try channel.writeInbound(AddressedEnvelope(remoteAddress: relay.nioAddress, data: buffer))
        }
        let reply = outcome.withLockedValue { $0 }
        #expect(reply??.sends == 2 && reply??.payload == [9, 9] && reply??.from == target)
        association.close(because: "test over", by: .user)
    }

    @Test func noReplyEndsTheWaitAtTheGiveUpTimeAndNotBefore() throws {
        let loop = EmbeddedEventLoop()
        let (core, association, channel) = try associated(loop)
        let outcome = try exchange(core, association.id)
        loop.advanceTime(by: .milliseconds(1_999))
        let sends = try sent(channel)
        #expect(outcome.withLockedValue { $0 } == nil && sends == 2)
        loop.advanceTime(by: .milliseconds(1))
        #expect(outcome.withLockedValue { $0.map { $0 == nil } } == true, "ended, without a reply")
        association.close(because: "test over", by: .user)
    }

    @Test func anAssociationThatEndsTakesItsWaitingExchangesWithIt() throws {
        let loop = EmbeddedEventLoop()
        let (core, association, _) = try associated(loop)
        let outcome = try exchange(core, association.id)
        loop.run()
        association.close(because: "closed by the server", by: .server)
        #expect(outcome.withLockedValue { $0.map { $0 == nil } } == true, "ended, without a reply")
        // Its timers are cancelled with it: nothing more is sent when they would have fired.
        loop.advanceTime(by: .seconds(3))
        #expect(core.associations[association.id]?.snapshot.counters.datagramsSent == 1)
    }
}
