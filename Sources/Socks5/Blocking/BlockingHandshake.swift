#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Drives a `ClientHandshake` over a connected blocking or non-blocking stream socket.
///
/// Each message from the server must arrive whole within the receive bound (the socket's
/// SO_RCVTIMEO, else `timeoutMilliseconds`), so a silent or trickling server cannot hold the
/// caller for longer than a few bounds. Reads never go past the message being read.
public struct BlockingHandshake {
    public let socket: Int32
    public var timeoutMilliseconds: Int32
    /// Told every message written and every read, when set.
    public var trace: HandshakeTrace?

    public init(socket: Int32, timeoutMilliseconds: Int32 = defaultHandshakeTimeoutMilliseconds) {
        self.socket = socket
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    /// Runs the machine until it is established, failed, or (for BIND with `stopAtBound`) until
    /// the first reply.
    public func run(_ machine: inout ClientHandshake, stopAtBound: Bool = false) throws(SOCKS5Error) -> SOCKSReply {
        let receiveBound = Int64(
            SocketOperations.timeoutMilliseconds(socket, option: SO_RCVTIMEO, default: timeoutMilliseconds)
        )
        let sendBound = Int64(
            SocketOperations.timeoutMilliseconds(socket, option: SO_SNDTIMEO, default: timeoutMilliseconds)
        )
        var action = machine.pendingAction
        if case .idle = machine.state { action = machine.start() }
        if case .awaitingSecondBindReply = machine.state { action = machine.start() }
        var messageDeadline = SocketOperations.monotonicMilliseconds() + receiveBound
        // After a read that left the message short, the rest is usually already here.
        var readFirst = false
        while true {
            switch action {
            case .send(let bytes):
                do {
                    try SocketOperations.sendAll(
                        socket,
                        bytes,
                        until: SocketOperations.monotonicMilliseconds() + sendBound
                    )
                } catch {
                    throw machine.failure(error)
                }
                trace?.wrote(bytes)
                messageDeadline = SocketOperations.monotonicMilliseconds() + receiveBound
                readFirst = false
                action = machine.pendingAction
            case .receive(let count):
                let bytes: [UInt8]
                do {
                    bytes = try SocketOperations.receiveSome(
                        socket,
                        count: max(count, 1),
                        until: messageDeadline,
                        readFirst: readFirst
                    )
                } catch {
                    throw machine.failure(error)
                }
                readFirst = !bytes.isEmpty
                if !bytes.isEmpty { trace?.read(bytes) }
                action = bytes.isEmpty ? machine.receiveEndOfStream() : machine.receive(bytes)
            case .bound(let reply):
                if stopAtBound { return reply }
                messageDeadline = SocketOperations.monotonicMilliseconds() + receiveBound
                action = machine.pendingAction
            case .established(let reply):
                return reply
            case .failed(let error):
                throw error
            }
        }
    }
}
