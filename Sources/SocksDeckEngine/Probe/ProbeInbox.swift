import NIOCore
import Socks5NIO

/// What a connection of the probe's method checks has read, waited for one item at a time with a
/// deadline: the probe asks ("the method selection, within 1.5 s"), where the engine's handlers
/// are told. The waiting is a promise and a scheduled timeout on the channel's loop, so no thread
/// blocks.
final class ProbeInbox<Item: Sendable>: ChannelInboundHandler, Sendable {
    typealias InboundIn = Item

    enum Next: Sendable {
        case item(Item)
        /// The channel closed (EOF, a reset, the probe's own close); `errno` when an error closed it.
        case ended(errno: Int32?)
        case timedOut
    }

    private struct State {
        var queue = CircularBuffer<Item>()
        var waiter: (promise: EventLoopPromise<Next>, timeout: Scheduled<Void>)?
        var ended = false
        var endingError: Int32?
    }

    private let loop: EventLoop
    /// Reachable only on `loop` (NIOLoopBoundBox checks it): NIO calls the handler there, and
    /// `next` hops there first.
    private let state: NIOLoopBoundBox<State>

    init(loop: EventLoop) {
        self.loop = loop
        state = NIOLoopBoundBox.makeBoxSendingValue(State(), as: State.self, eventLoop: loop)
    }

    /// The next item read, the end of the channel, or `.timedOut` after `timeout`.
    func next(within timeout: TimeAmount) async -> Next {
        // Fails only when the loop has shut down: the channel has ended with it.
        (try? await loop.flatSubmit { self.nextOnLoop(within: timeout) }.get()) ?? .ended(errno: nil)
    }

    private func nextOnLoop(within timeout: TimeAmount) -> EventLoopFuture<Next> {
        precondition(state.value.waiter == nil, "one reader at a time")
        if let item = state.value.queue.popFirst() { return loop.makeSucceededFuture(.item(item)) }
        if state.value.ended { return loop.makeSucceededFuture(.ended(errno: state.value.endingError)) }
        let promise = loop.makePromise(of: Next.self)
        let task = loop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            guard let waiter = state.value.waiter, waiter.promise.futureResult === promise.futureResult else { return }
            state.value.waiter = nil
            promise.succeed(.timedOut)
        }
        state.value.waiter = (promise, task)
        return promise.futureResult
    }

    private func deliver(_ next: Next) -> Bool {
        guard let waiter = state.value.waiter else { return false }
        state.value.waiter = nil
        waiter.timeout.cancel()
        waiter.promise.succeed(next)
        return true
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let item = unwrapInboundIn(data)
        if !deliver(.item(item)) { state.value.queue.append(item) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        state.value.ended = true
        _ = deliver(.ended(errno: state.value.endingError))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        state.value.endingError = NIOErrorNumber.of(error)
        // A stream ends with its first error.
        context.close(promise: nil)
    }
}
