import NIOCore
import Socks5
import Socks5NIO

#if canImport(Glibc)
import Glibc
#endif

/// Reads the association's data socket: checks the source is the relay, strips and parses the
/// header with the library's codec (no allocation for IP senders), and hands the result to the
/// association's record.
final class RelayDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let association: Association

    init(association: Association) { self.association = association }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let buffer = envelope.data
        guard let relay = association.rendezvous?.asUsed,
            let source = IPEndpoint(envelope.remoteAddress), source.isSamePeer(as: relay)
        else {
            association.recordDrop(
                .notFromRelay,
                size: buffer.readableBytes,
                source: IPEndpoint(envelope.remoteAddress).map { .ip($0) }
            )
            return
        }
        // A datagram that fills the buffer may have been cut by the kernel: never deliver it.
        guard buffer.readableBytes < association.server.receiveBufferBytes else {
            association.recordDrop(.oversize, size: buffer.readableBytes, source: .ip(source))
            return
        }
        let parsed = buffer.withUnsafeReadableBytes { try? UDPDatagramHeader.parse($0) }
        guard let (header, offset) = parsed else {
            association.recordDrop(.malformedHeader, size: buffer.readableBytes, source: .ip(source))
            return
        }
        guard header.fragment == 0 else {
            association.recordDrop(.fragmented, size: buffer.readableBytes, source: .ip(source))
            return
        }
        association.recordReceived(from: header.address, payload: buffer.readableBytesView.dropFirst(offset))
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        association.recordDataSocketError(error)
    }
}
