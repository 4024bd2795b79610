import NIOCore
import Socks5
import Socks5NIO

#if canImport(Glibc)
import Glibc
#endif

/// Reads the association's data socket: checks the source is the relay, strips and parses the
/// header with the library's codec (no allocation for IP senders), and hands the result to the
/// association, one call per datagram.
///
/// While the association gathers (`Association.readGathering`, which an echo load may ask for), a
/// read that found fewer datagrams than a batch delays the next one by that pause, so that a relay
/// that hands datagrams back one at a time wakes the loop once for several (the library's
/// `gathering` does the same on its blocking socket). Otherwise reads follow NIO's autoRead.
final class RelayDatagramHandler: ChannelDuplexHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundIn = AddressedEnvelope<ByteBuffer>

    private let association: Association
    private var receiveBufferPages = ReceiveBufferPages()
    /// Datagrams handed over by the current read, and the read held back by a gathering pause.
    private var datagramsThisRead = 0
    private var datagramsLastRead = 0
    private var readInBatches = false
    private var delayedRead: Scheduled<Void>?

    init(association: Association) { self.association = association }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        association.readBegan()
        // The mode a read began in holds for all its datagrams: a load that ends during the read
        // switches the next read.
        if datagramsThisRead == 0 { readInBatches = association.readGathering != nil }
        datagramsThisRead += 1
        let envelope = unwrapInboundIn(data)
        let buffer = envelope.data
        // A batch's datagrams are slices of one buffer, which ReceiveBufferPages must not see.
        defer { if !readInBatches { receiveBufferPages.datagramRead(buffer) } }
        let source = IPEndpoint(envelope.remoteAddress)
        // A datagram that fills the buffer may have been cut by the kernel: never deliver it.
        let verdict = buffer.withUnsafeReadableBytes {
            DatagramFilter.atClient(
                source: source,
                relay: association.rendezvous?.asUsed,
                length: buffer.readableBytes,
                largestWhole: association.server.receiveBufferBytes - 1,
                headerBytes: $0
            )
        }
        // Accepted implies a source: the filter takes only the relay's datagrams.
        guard case .accepted(let accepted) = verdict, let source else {
            if case .dropped(let reason) = verdict { association.recordDrop(reason, datagram: buffer, from: source) }
            return
        }
        association.recordReceived(
            datagram: buffer,
            from: source,
            sender: accepted.header.address,
            payloadOffset: accepted.payloadOffset
        )
    }

    /// What the read's datagrams sent (an echo's successor, a forwarded reply's next request)
    /// goes out in one flush.
    func channelReadComplete(context: ChannelHandlerContext) {
        (datagramsLastRead, datagramsThisRead) = (datagramsThisRead, 0)
        if association.readEnded() { context.flush() }
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        guard let pause = association.readGathering, datagramsLastRead < DataSocketChannel.batchReadCount else {
            context.read()
            return
        }
        guard delayedRead == nil else { return }
        delayedRead = context.eventLoop.assumeIsolated().scheduleTask(in: pause) { [self] in
            delayedRead = nil
            context.read()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        delayedRead?.cancel()
        delayedRead = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        association.recordDataSocketError(error)
    }
}
