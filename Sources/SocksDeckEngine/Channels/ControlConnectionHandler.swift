import NIOCore
import NIOPosix
import Socks5
import Socks5NIO

#if canImport(Glibc)
import Glibc
#endif

/// Drives the library's `ClientHandshake` over a NIO channel: the same sans-I/O state machine the
/// blocking C API uses, here fed by channel reads. After the handshake it watches the control
/// connection: the association lives as long as it does.
final class ControlConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Event {
        /// The handshake moved on: negotiating, authenticating or requesting.
        case progressed(ControlConnectionState)
        /// BIND's first reply (the server listens at its BND); the second follows when a peer
        /// connects. Only the probe asks for BIND.
        case bound(SOCKSReply)
        case established(SOCKSReply)
        case failed(SOCKS5Error)
        /// After establishment: the server ended the control connection.
        case closed(reason: String)
        /// After establishment the control connection should be silent; it was not.
        case unexpectedBytes([UInt8])
    }

    /// Made when the connection is up: the request may declare the connection's local address.
    private var machine: ClientHandshake
    private let makeMachine: (SocketAddress?) -> ClientHandshake
    private let timeout: TimeAmount
    /// The setting that bounds the wait, named in the timeout's hint; nil: no hint (the probe's
    /// steps are bounded on purpose, and its finding says what timed out).
    private let timeoutSetting: String?
    private let report: (Event) -> Void
    /// What crossed the connection, for a capture; nil when nobody captures.
    private let observe: ((ControlTraffic) -> Void)?
    private var timeoutTask: Scheduled<Void>?
    private var established = false
    private var finished = false
    private var lastError: Int32?
    /// The machine's phase last reported: every change is reported once, whatever moved it (a
    /// write, or, with pipelining, a read: the method selection moves it to the reply).
    private var reportedPhase: HandshakePhase?

    init(
        timeout: TimeAmount,
        timeoutSetting: String? = "handshake_timeout_ms",
        makeMachine: @escaping (SocketAddress?) -> ClientHandshake,
        report: @escaping (Event) -> Void,
        observe: ((ControlTraffic) -> Void)? = nil
    ) {
        self.observe = observe
        self.makeMachine = makeMachine
        machine = makeMachine(nil)
        self.timeout = timeout
        self.timeoutSetting = timeoutSetting
        self.report = report
    }

    func channelActive(context: ChannelHandlerContext) {
        machine = makeMachine(context.channel.localAddress)
        if let observe, let local = IPEndpoint(context.channel.localAddress),
            let remote = IPEndpoint(context.channel.remoteAddress)
        {
            observe(.opened(local: local, remote: remote))
        }
        timeoutTask = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            guard !established, !finished else { return }
            let milliseconds = timeout.nanoseconds / 1_000_000
            let hint = timeoutSetting.map {
                "The server took longer than \($0) (\(milliseconds) ms) to answer: is it overloaded, or is something "
                    + "in between dropping packets? Raise \($0) for a slow server."
            }
            perform(
                machine.fail(.system(ETIMEDOUT, "no complete reply within \(milliseconds) ms", hint: hint)),
                context: context
            )
        }
        perform(machine.start(), context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if established {
            if let observe {
                let unexpected = "unexpected: the control connection should stay silent after the reply"
                observe(.received(Array(buffer.readableBytesView), meaning: unexpected))
            }
            report(.unexpectedBytes(Array(buffer.readableBytesView)))
            return
        }
        guard !finished else { return }
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        let action = machine.receive(bytes)
        if let observe { observe(.received(bytes, meaning: Self.meaning(of: action))) }
        perform(action, context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timeoutTask?.cancel()
        let reason: String
        switch lastError {
        case ECONNRESET?: reason = "the server reset the control connection"
        case let e?: reason = "control connection error: \(ErrorCatalogue.decode(errno: e).name)"
        case nil: reason = "the server closed the control connection (EOF)"
        }
        observe?(.ended(reason: reason))
        if established {
            report(.closed(reason: reason))
        } else if !finished {
            if let lastError {
                perform(machine.fail(.system(lastError, "control connection")), context: context)
            } else {
                perform(machine.receiveEndOfStream(), context: context)
            }
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        lastError = (error as? IOError)?.errnoCode ?? EIO
        context.close(promise: nil)
    }

    private func perform(_ action: ClientHandshake.Action, context: ChannelHandlerContext) {
        if let phase = machine.phase, phase != reportedPhase {
            reportedPhase = phase
            switch phase {
            case .methodSelection: report(.progressed(.negotiating))
            case .authentication: report(.progressed(.authenticating))
            case .reply, .secondBindReply: report(.progressed(.requesting))
            }
        }
        switch action {
        case .send(let bytes):
            observe?(.sent(bytes))
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
        case .receive:
            break
        case .bound(let reply):
            report(.bound(reply))
        case .established(let reply):
            timeoutTask?.cancel()
            established = true
            // One read may carry the method selection and the reply (pipelined, a server that
            // answers both at once): the machine passed through the reply phase all the same.
            if reportedPhase != .reply {
                reportedPhase = .reply
                report(.progressed(.requesting))
            }
            report(.established(reply))
        case .failed(let error):
            timeoutTask?.cancel()
            guard !finished else { return }
            finished = true
            report(.failed(error))
            context.close(promise: nil)
        }
    }

    /// What a read meant to the handshake, for the capture's comment on its packet.
    private static func meaning(of action: ClientHandshake.Action) -> String? {
        switch action {
        case .established(let reply): "the UDP ASSOCIATE reply: BND \(reply.boundAddress)"
        case .failed(let error): "the handshake failed here: \(error)"
        case .bound(let reply): "BIND's first reply: the server listens at \(reply.boundAddress)"
        case .send, .receive: nil
        }
    }
}

extension ControlConnectionHandler {
    /// Connects to a SOCKS server with `makeHandler`'s handler driving the handshake: how the
    /// engine's associations and the probe's connections are made.
    static func connect(
        to endpoint: IPEndpoint,
        on loop: EventLoop,
        connectTimeout: TimeAmount,
        handler makeHandler: @escaping @Sendable () -> ControlConnectionHandler
    ) -> EventLoopFuture<Channel> {
        ClientBootstrap(group: loop)
            .connectTimeout(connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(makeHandler()) }
            }
            .connect(to: endpoint.nioAddress)
    }
}
