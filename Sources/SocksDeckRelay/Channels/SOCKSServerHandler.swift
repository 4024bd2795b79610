import Dispatch
import NIOCore
import NIOPosix
import Socks5
import Socks5NIO
import UDPChecks

#if canImport(Glibc)
import Glibc
#endif

/// One client's control connection: drives `ServerHandshake`, then carries out the request.
/// CONNECT joins the client to the target; UDP ASSOCIATE opens a `UDPRelaySession` that lives
/// as long as this connection; BIND is answered with REP 7.
final class SOCKSServerHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var handshake: ServerHandshake
    private let configuration: RelayConfiguration
    private let statistics: StatisticsBox
    private let log: @Sendable (RelayEvent) -> Void
    private var session: UDPRelaySession?
    private var idleCheck: RepeatedTask?
    private var label = "?"
    private var spliced = false
    private let captures: RelayCaptures?
    /// This connection's capture (`serve --pcap`), made when it is up.
    private var capture: RelayCapture?
    /// Set when the relay ends the connection (a refusal, the idle timer), for the capture's FIN.
    private var closingReason: String?

    init(
        configuration: RelayConfiguration,
        statistics: StatisticsBox,
        captures: RelayCaptures? = nil,
        log: @escaping @Sendable (RelayEvent) -> Void
    ) {
        handshake = ServerHandshake(required: configuration.credentials)
        self.captures = captures
        self.configuration = configuration
        self.statistics = statistics
        self.log = log
    }

    func channelActive(context: ChannelHandlerContext) {
        label = IPEndpoint(context.remoteAddress)?.description ?? "?"
        if let captures, let client = IPEndpoint(context.remoteAddress), let server = IPEndpoint(context.localAddress) {
            let capture = captures.make(client: client, server: server)
            capture.record { $0.controlOpened(client: client, server: server, at: $1) }
            self.capture = capture
        }
        statistics.update { $0.connectionsAccepted += 1 }
        log(RelayEvent(kind: .accepted, client: label, message: "connection from \(label)"))
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        guard handshake.state != .done else {
            // After CONNECT, until this handler is gone, the client's bytes are for the target.
            if spliced { context.fireChannelRead(data) }
            // The control connection of an association is silent: anything else is ignored.
            return
        }
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        capture?.record { $0.controlData(fromClient: true, bytes, at: $1) }
        for action in handshake.receive(bytes) {
            switch action {
            case .send(let reply):
                write(reply, context)
            case .authenticated(let reply, let user):
                write(reply, context)
                log(RelayEvent(kind: .authenticated, client: label, message: "user \(user) authenticated"))
            case .sendAndClose(let reply, let reason):
                refuse(context, reply, reason)
            case .close(let reason):
                refuse(context, nil, reason)
            case .request(let request):
                carryOut(request, context: context)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        let byRelay = closingReason != nil
        let why = closingReason.map { "closed by the relay: \($0)" } ?? "the client closed the control connection"
        capture?.record { $0.controlClosed(byClient: !byRelay, at: $1, comment: why) }
        if let session {
            session.close()
            statistics.update { $0.associationsOpen -= 1 }
            log(RelayEvent(kind: .closed, client: label, message: "association closed: the control connection ended"))
        }
        session = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        closingReason = closingReason ?? "error: \(NIOErrorNumber.describe(error))"
        context.close(promise: nil)
    }

    /// Half-closure is on so that CONNECT can pass a client's EOF to the target; before that,
    /// and for an association, EOF from the client ends the connection (and the association).
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event, !spliced {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Every byte the relay writes on the control connection goes through here (and into the capture).
    @discardableResult
    private func write(
        _ bytes: [UInt8],
        _ context: ChannelHandlerContext,
        comment: String? = nil
    )
        -> EventLoopFuture<Void>
    {
        capture?.record { $0.controlData(fromClient: false, bytes, at: $1, comment: comment) }
        return context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)))
    }

    private func refuse(_ context: ChannelHandlerContext, _ reply: [UInt8]?, _ reason: String) {
        statistics.update { $0.refusals += 1 }
        log(RelayEvent(kind: .refused, client: label, message: reason))
        closingReason = reason
        if let reply {
            write(reply, context, comment: "refused: \(reason)").whenComplete { _ in
                context.close(promise: nil)
            }
        } else {
            context.close(promise: nil)
        }
    }

    private func reply(
        _ code: ReplyCode,
        _ bound: SOCKSAddress,
        _ context: ChannelHandlerContext
    ) -> EventLoopFuture<Void> {
        write(SOCKSReply(reply: code, boundAddress: bound).encoded(), context)
    }

    private func carryOut(_ request: SOCKSRequest, context: ChannelHandlerContext) {
        switch request.command {
        case .bind:
            refuse(
                context,
                SOCKSReply(reply: .commandNotSupported, boundAddress: .unspecified(.ipv4)).encoded(),
                "BIND is not supported"
            )
        case .udpAssociate:
            guard configuration.udpEnabled else {
                refuse(
                    context,
                    SOCKSReply(reply: .commandNotSupported, boundAddress: .unspecified(.ipv4)).encoded(),
                    "UDP ASSOCIATE refused: this relay runs with --no-udp"
                )
                return
            }
            associate(request, context: context)
        case .connect:
            connect(request, context: context)
        }
    }

    // MARK: UDP ASSOCIATE

    private func associate(_ request: SOCKSRequest, context: ChannelHandlerContext) {
        guard let local = IPEndpoint(context.localAddress), let peer = IPEndpoint(context.remoteAddress) else {
            context.close(promise: nil)
            return
        }
        // The client's address: the declared one when it declared one, else the control
        // connection's peer, its port locked by the first datagram.
        var clientIP = peer.address
        var declaredPort: UInt16?
        if case .ip(let declared) = request.address {
            if !declared.address.isUnspecified { clientIP = declared.address }
            if declared.port != 0 { declaredPort = declared.port }
        }
        // BND is concrete: the address the client reached us on, or for a request declaring the
        // other family on a loopback connection, that family's loopback (as Dante does).
        var bindAddress = local.address.unmapped
        if case .ip(let declared) = request.address, declared.family != bindAddress.family, bindAddress.isLoopback {
            bindAddress = declared.family == .ipv4 ? .v4(.loopback) : .v6(.loopback)
            if clientIP.isLoopback || clientIP.isUnspecified { clientIP = bindAddress }
        }
        let session = UDPRelaySession(
            eventLoop: context.eventLoop,
            clientIP: clientIP,
            declared: request.address,
            declaredPort: configuration.sourceCheck == .declared ? declaredPort : nil,
            sourceCheck: configuration.sourceCheck,
            mapping: configuration.mapping,
            filtering: configuration.filtering,
            maximumDatagram: configuration.maximumDatagram,
            statistics: statistics,
            label: label,
            capture: capture,
            log: log
        )
        self.session = session
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        session.bindClientSide(on: bindAddress).whenComplete { [self] result in
            let context = loopBound.value
            switch result {
            case .success(let bound):
                statistics.update {
                    $0.associationsOpened += 1
                    $0.associationsOpen += 1
                }
                log(
                    RelayEvent(
                        kind: .associated,
                        client: label,
                        message: "UDP association: relay \(bound) for client \(clientIP)"
                    )
                )
                reply(.succeeded, .ip(bound), context).whenFailure { _ in context.close(promise: nil) }
                startIdleCheck(context)
            case .failure:
                self.session = nil
                session.close()
                refuse(
                    context,
                    SOCKSReply(reply: .generalFailure, boundAddress: .unspecified(.ipv4)).encoded(),
                    "cannot bind a relay socket"
                )
            }
        }
    }

    private func startIdleCheck(_ context: ChannelHandlerContext) {
        let timeout = TimeAmount.seconds(configuration.idleTimeoutSeconds)
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        idleCheck = context.eventLoop.scheduleRepeatedTask(
            initialDelay: timeout,
            delay: .nanoseconds(max(timeout.nanoseconds / 4, 100_000_000))
        ) { [self] _ in
            guard let session, NIODeadline.now() - session.lastActivity >= timeout else { return }
            log(
                RelayEvent(
                    kind: .closed,
                    client: label,
                    message: "association idle for \(configuration.idleTimeoutSeconds) s: closing"
                )
            )
            closingReason = "idle for \(configuration.idleTimeoutSeconds) s"
            loopBound.value.close(promise: nil)
        }
    }

    // MARK: CONNECT

    private func connect(_ request: SOCKSRequest, context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let target: EventLoopFuture<IPEndpoint>
        switch request.address {
        case .ip(let e):
            target = eventLoop.makeSucceededFuture(e)
        case .domain(let name, let port):
            let promise = eventLoop.makePromise(of: IPEndpoint.self)
            let host = name.description
            DispatchQueue.global().async {
                if let e = NameResolution.resolve(host, port: port) {
                    promise.succeed(e)
                } else {
                    promise.fail(IOError(errnoCode: EHOSTUNREACH, reason: "resolve"))
                }
            }
            target = promise.futureResult
        }
        let (glueToClient, glueToTarget) = GlueHandler.matchedPair()
        target.flatMap { endpoint in
            ClientBootstrap(group: eventLoop)
                .connectTimeout(.seconds(10))
                .channelInitializer { channel in channel.eventLoop.makeSucceededVoidFuture() }
                .connect(to: endpoint.nioAddress)
        }.whenComplete { [self] result in
            let context = loopBound.value
            switch result {
            case .success(let outbound):
                let bound = IPEndpoint(outbound.localAddress).map { SOCKSAddress.ip($0) } ?? .unspecified(.ipv4)
                statistics.update { $0.connectsOpened += 1 }
                log(RelayEvent(kind: .connected, client: label, message: "CONNECT \(request.address)"))
                reply(.succeeded, bound, context).whenComplete { _ in
                    let context = loopBound.value
                    let leftover = self.handshake.leftover
                    do {
                        self.spliced = true
                        try context.pipeline.syncOperations.addHandler(glueToClient)
                        try outbound.pipeline.syncOperations.addHandler(glueToTarget)
                        if !leftover.isEmpty {
                            outbound.writeAndFlush(outbound.allocator.buffer(bytes: leftover), promise: nil)
                        }
                        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
                    } catch {
                        context.close(promise: nil)
                        outbound.close(promise: nil)
                    }
                }
            case .failure(let error):
                let code = Self.replyCode(for: error)
                refuse(
                    context,
                    SOCKSReply(reply: code, boundAddress: .unspecified(.ipv4)).encoded(),
                    "CONNECT \(request.address) failed: REP \(code.rawValue)"
                )
            }
        }
    }

    static func replyCode(for error: Error) -> ReplyCode {
        switch NIOErrorNumber.of(error) {
        case ECONNREFUSED: return .connectionRefused
        case ENETUNREACH: return .networkUnreachable
        case EHOSTUNREACH, ETIMEDOUT: return .hostUnreachable
        default: return .generalFailure
        }
    }
}
