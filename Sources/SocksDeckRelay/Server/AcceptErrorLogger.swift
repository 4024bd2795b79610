import NIOCore
import Socks5NIO

/// Last on each listening channel: NIO closes a connection it accepted but could not set up (a
/// socket option refused, say) and reports that, like a failed accept (EMFILE when out of
/// descriptors), only as an error in the listening channel's pipeline. Without this handler
/// serve would drop such clients without a word; with it, the log says what failed.
final class AcceptErrorLogger: ChannelInboundHandler, Sendable {
    typealias InboundIn = Channel

    private let log: @Sendable (RelayEvent) -> Void

    init(log: @escaping @Sendable (RelayEvent) -> Void) { self.log = log }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        log(
            RelayEvent(
                kind: .error,
                client: nil,
                message: "could not take a connection: \(NIOErrorNumber.describe(error))"
            )
        )
        context.fireErrorCaught(error)
    }
}
