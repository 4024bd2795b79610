import NIOCore
import Socks5
import Socks5NIO

#if canImport(Glibc)
import Glibc
#endif

/// Reads the association's data socket: checks the source is the relay, strips and parses the
/// header with the library's codec (no allocation for IP senders), and hands the result to the
/// association's record (and its capture, when there is one).
final class RelayDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let association: Association
    private var receiveBufferPages = ReceiveBufferPages()

    init(association: Association) { self.association = association }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let buffer = envelope.data
        defer { receiveBufferPages.datagramRead(buffer) }
        let source = IPEndpoint(envelope.remoteAddress)
        func drop(_ reason: DatagramDropReason) {
            if let source {
                association.captureReceived(datagram: buffer, from: source, delivered: nil, dropped: reason.description)
            }
            association.recordDrop(reason, size: buffer.readableBytes, source: source.map { .ip($0) })
        }
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
            if case .dropped(let reason) = verdict { drop(reason) }
            return
        }
        let (header, offset) = (accepted.header, accepted.payloadOffset)
        association.captureReceived(datagram: buffer, from: source, delivered: (header.address, offset), dropped: nil)
        association.recordReceived(from: header.address, payload: buffer.readableBytesView.dropFirst(offset))
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        association.recordDataSocketError(error)
    }
}
