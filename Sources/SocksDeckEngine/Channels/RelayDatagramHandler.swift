#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import Socks5

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
              let source = IPEndpoint(envelope.remoteAddress), source.isSamePeer(as: relay) else {
            association.recordDrop(.notFromRelay, size: buffer.readableBytes, source: IPEndpoint(envelope.remoteAddress).map { .ip($0) })
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

extension IPEndpoint {
    /// The NIO address as the library's endpoint, without going through text.
    init?(_ address: SocketAddress?) {
        switch address {
        case .v4(let a)?:
            var sin = a.address
            guard let e = withUnsafeBytes(of: &sin, { try? IPEndpoint(sockaddr: $0.baseAddress!, length: $0.count) }) else { return nil }
            self = e
        case .v6(let a)?:
            var sin6 = a.address
            guard let e = withUnsafeBytes(of: &sin6, { try? IPEndpoint(sockaddr: $0.baseAddress!, length: $0.count) }) else { return nil }
            self = e
        default:
            return nil
        }
    }

    /// The endpoint as a NIO address.
    var nioAddress: SocketAddress {
        switch address {
        case .v4(let a): SocketAddress(sockaddr_in(sin_family: sa_family_t(AF_INET), sin_port: port.bigEndian, sin_addr: a.inAddr, sin_zero: (0, 0, 0, 0, 0, 0, 0, 0)), host: "")
        case .v6(let a):
            SocketAddress(sockaddr_in6(sin6_family: sa_family_t(AF_INET6), sin6_port: port.bigEndian, sin6_flowinfo: 0, sin6_addr: a.in6Addr, sin6_scope_id: 0), host: "")
        }
    }
}
