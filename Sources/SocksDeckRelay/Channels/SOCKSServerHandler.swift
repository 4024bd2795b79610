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
    private let admission: ClientAdmission
    /// The control connection's source IP: what the per-client bounds count by.
    private var client: IPAddress?
    /// What this connection holds of its client's bounds, given back when it ends.
    private var holdsNegotiation = false
    private var holdsAssociation = false
    private var negotiationDeadline: Scheduled<Void>?

    init(
        configuration: RelayConfiguration,
        statistics: StatisticsBox,
        admission: ClientAdmission,
        captures: RelayCaptures? = nil,
        log: @escaping @Sendable (RelayEvent) -> Void
    ) {
        handshake = ServerHandshake(required: configuration.credentials)
        self.admission = admission
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
        context.fireChannelActive()
        client = IPEndpoint(context.remoteAddress)?.address.unmapped
        guard admit(.negotiation, context) else { return }
        log(RelayEvent(kind: .accepted, client: label, message: "connection from \(label)"))
        // Scheduled on the connection's own loop, which runs it: no hop, nothing Sendable needed.
        // The relay's own --latency delays its method selection and login replies, which the client
        // waits for before it can go on: those do not count against the client.
        negotiationDeadline = context.eventLoop.assumeIsolated().scheduleTask(
            in: TimeAmount(configuration.negotiationTimeout + configuration.latency * 2)
        ) { [self] in
            negotiationTimedOut(context)
        }
    }

    /// The client has not completed its part of the negotiation in time: say how far it got.
    private func negotiationTimedOut(_ context: ChannelHandlerContext) {
        guard holdsNegotiation, context.channel.isActive else { return }
        let within = "within \(configuration.negotiationTimeout.words)"
        let got = handshake.pendingBytes
        let stage: String
        switch handshake.state {
        case .awaitingGreeting:
            stage = got == 0 ? "nothing was sent" : "the greeting stopped after \(got) of its bytes"
        case .awaitingCredentials:
            stage =
                got == 0
                ? "the RFC 1929 login never came" : "the RFC 1929 login stalled after \(got) of its bytes"
        case .awaitingRequest:
            stage = got == 0 ? "the request never came" : "the request stopped after \(got) of its bytes"
        case .done:
            return
        }
        statistics.update { $0.negotiationTimeouts += 1 }
        let reason = "no request \(within): \(stage)"
        log(RelayEvent(kind: .closed, client: label, message: "closed: \(reason)"))
        closingReason = reason
        context.close(promise: nil)
    }

    /// Takes one of the client's `resource` from its bound, or refuses: counts, logs the first
    /// refusal and then one a minute per client (a flood must not flood the log too), and closes,
    /// after REP 2 for an association. Returns whether the connection may go on.
    private func admit(_ resource: ClientAdmission.Resource, _ context: ChannelHandlerContext) -> Bool {
        guard let client else { return true }
        guard let refusal = admission.admit(resource, for: client, now: context.eventLoop.now) else {
            switch resource {
            case .negotiation: holdsNegotiation = true
            case .association: holdsAssociation = true
            }
            return true
        }
        let what: String
        var reply: [UInt8]?
        switch resource {
        case .negotiation:
            statistics.update { $0.connectionsOverClientLimit += 1 }
            what = "already has the most connections still negotiating (\(refusal.limit), --max-negotiating-per-client)"
        case .association:
            statistics.update { $0.associationsOverClientLimit += 1 }
            what = "already holds the most associations (\(refusal.limit), --max-associations-per-client)"
            reply = SOCKSReply(reply: .notAllowedByRuleset, boundAddress: .unspecified(.ipv4)).encoded()
        }
        statistics.update { $0.refusals += 1 }
        let reason = "client \(client) \(what)"
        if refusal.logNow {
            let earlier =
                refusal.unloggedBefore == 0 ? "" : "; \(refusal.unloggedBefore) more refused since the last line"
            log(
                RelayEvent(
                    kind: .refused,
                    client: label,
                    message: "\(reason): refused\(earlier) (logged once a minute per client)"
                )
            )
        }
        closingReason = reason
        if let reply {
            write(reply, context, comment: "refused: \(reason)").assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        } else {
            context.close(promise: nil)
        }
        return false
    }

    /// The client has sent its request: it no longer counts as negotiating.
    private func endNegotiation() {
        negotiationDeadline?.cancel()
        negotiationDeadline = nil
        if holdsNegotiation, let client { admission.release(.negotiation, for: client) }
        holdsNegotiation = false
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
                endNegotiation()
                carryOut(request, context: context)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        endNegotiation()
        if holdsAssociation, let client { admission.release(.association, for: client) }
        holdsAssociation = false
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
    /// `immediately`: without `--latency`, for CONNECT's success reply. The splice to the target
    /// follows that write, and a delayed write would leave a window in which the target's first
    /// bytes (a server that speaks first) and the client's have nowhere to go.
    private func write(
        _ bytes: [UInt8],
        _ context: ChannelHandlerContext,
        comment: String? = nil,
        immediately: Bool = false
    )
        -> EventLoopFuture<Void>
    {
        capture?.record { $0.controlData(fromClient: false, bytes, at: $1, comment: comment) }
        let buffer = wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes))
        guard configuration.latency > .zero, !immediately else { return context.writeAndFlush(buffer) }
        // `serve --latency`: later, in order (the loop runs equal deadlines in the order scheduled).
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(configuration.latency)) {
            context.writeAndFlush(buffer, promise: promise)
        }
        return promise.futureResult
    }

    private func refuse(_ context: ChannelHandlerContext, _ reply: [UInt8]?, _ reason: String) {
        statistics.update { $0.refusals += 1 }
        log(RelayEvent(kind: .refused, client: label, message: reason))
        closingReason = reason
        if let reply {
            write(reply, context, comment: "refused: \(reason)").assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        } else {
            context.close(promise: nil)
        }
    }

    private func reply(
        _ code: ReplyCode,
        _ bound: SOCKSAddress,
        _ context: ChannelHandlerContext,
        immediately: Bool = false
    ) -> EventLoopFuture<Void> {
        write(SOCKSReply(reply: code, boundAddress: bound).encoded(), context, immediately: immediately)
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
        guard admit(.association, context) else { return }
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
            latency: configuration.latency,
            cutDatagramsAt: configuration.cutDatagramsAt,
            statistics: statistics,
            label: label,
            capture: capture,
            log: log
        )
        self.session = session
        let relayIP = clientIP
        session.bindClientSide(on: bindAddress).hop(to: context.eventLoop).assumeIsolated().whenComplete {
            [self] result in
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
                        message: "UDP association: relay \(bound) for client \(relayIP)"
                    )
                )
                reply(.succeeded, .ip(bound), context).assumeIsolated().whenFailure { _ in context.close(promise: nil) }
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
        let timeout = TimeAmount(configuration.idleTimeout)
        // The task runs on the handler's loop; NIOLoopBound checks that, as the handler is not Sendable.
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        idleCheck = context.eventLoop.scheduleRepeatedTask(
            initialDelay: timeout,
            delay: .nanoseconds(max(timeout.nanoseconds / 4, 100_000_000))
        ) { _ in bound.value.handler.closeIfIdle(bound.value.context, after: timeout) }
    }

    private func closeIfIdle(_ context: ChannelHandlerContext, after timeout: TimeAmount) {
        guard let session, NIODeadline.now() - session.lastActivity >= timeout else { return }
        log(
            RelayEvent(
                kind: .closed,
                client: label,
                message: "association idle for \(configuration.idleTimeout.words): closing"
            )
        )
        closingReason = "idle for \(configuration.idleTimeout.words)"
        context.close(promise: nil)
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
        }.assumeIsolated().whenComplete { [self] result in
            let context = loopBound.value
            switch result {
            case .success(let outbound):
                let bound = IPEndpoint(outbound.localAddress).map { SOCKSAddress.ip($0) } ?? .unspecified(.ipv4)
                statistics.update { $0.connectsOpened += 1 }
                log(RelayEvent(kind: .connected, client: label, message: "CONNECT \(request.address)"))
                reply(.succeeded, bound, context, immediately: true).assumeIsolated().whenComplete { _ in
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
