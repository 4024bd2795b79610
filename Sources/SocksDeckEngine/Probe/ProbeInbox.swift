import NIOCore
import Socks5NIO

/// What a channel of the probe has read, waited for one item at a time with a deadline: the
/// probe asks ("the method selection, within 1.5 s"), where the engine's handlers are told. The
/// waiting is a promise and a scheduled timeout on the channel's loop, so no thread blocks.
///
/// Confined to its channel's event loop, like any handler: every method but `next` runs there
/// (NIO calls them), and `next` hops there first.
final class ProbeInbox<Item: Sendable>: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = Item

    enum Next: Sendable {
        case item(Item)
        /// The channel closed (EOF, a reset, the probe's own close); `errno` when an error closed it.
        case ended(errno: Int32?)
        case timedOut
    }

    private let loop: EventLoop
    /// A stream ends with its first error; a datagram socket's error (an ICMP unreachable for
    /// an earlier datagram) does not end it.
    private let closesOnError: Bool
    private var queue = CircularBuffer<Item>()
    private var waiter: (promise: EventLoopPromise<Next>, timeout: Scheduled<Void>)?
    private var ended = false
    private var endingError: Int32?

    init(loop: EventLoop, closesOnError: Bool) {
        self.loop = loop
        self.closesOnError = closesOnError
    }

    /// The next item read, the end of the channel, or `.timedOut` after `timeout`.
    func next(within timeout: TimeAmount) async -> Next {
        // Fails only when the loop has shut down: the channel has ended with it.
        (try? await loop.flatSubmit { self.nextOnLoop(within: timeout) }.get()) ?? .ended(errno: nil)
    }

    private func nextOnLoop(within timeout: TimeAmount) -> EventLoopFuture<Next> {
        loop.preconditionInEventLoop()
        precondition(waiter == nil, "one reader at a time")
        if let item = queue.popFirst() { return loop.makeSucceededFuture(.item(item)) }
        if ended { return loop.makeSucceededFuture(.ended(errno: endingError)) }
        let promise = loop.makePromise(of: Next.self)
        let task = loop.scheduleTask(in: timeout) { [self] in
            guard let waiter, waiter.promise.futureResult === promise.futureResult else { return }
            self.waiter = nil
            promise.succeed(.timedOut)
        }
        waiter = (promise, task)
        return promise.futureResult
    }

    private func deliver(_ next: Next) -> Bool {
        guard let waiter else { return false }
        self.waiter = nil
        waiter.timeout.cancel()
        waiter.promise.succeed(next)
        return true
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let item = unwrapInboundIn(data)
        if !deliver(.item(item)) { queue.append(item) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        ended = true
        _ = deliver(.ended(errno: endingError))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        endingError = NIOErrorNumber.of(error)
        if closesOnError { context.close(promise: nil) }
    }
}
