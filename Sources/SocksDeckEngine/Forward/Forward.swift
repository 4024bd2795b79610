import Foundation
import NIOCore
import NIOPosix
import Socks5
import Socks5NIO

/// A forward: a local UDP socket whose clients each get a flow through the proxy (ForwardFlow).
/// Lives on the engine's loop, beside the associations its flows open; not Sendable. The engine
/// holds it in `EngineCore.forwards`; its socket's handler reaches it through a NIOLoopBound.
final class Forward {
    /// Closed flows kept for the summary and the screen after they end; older ones are counted only.
    static let closedFlowsKept = 256

    let id: ForwardID
    let spec: ForwardSpec
    let server: ServerDefinition
    let options: ForwardOptions
    private let endpoint: IPEndpoint
    private let otherAddresses: [IPAddress]
    private unowned let core: EngineCore
    private let group: EventLoopGroup
    private let report: (@Sendable (ForwardEvent) -> Void)?
    var channel: Channel?
    private var flows: [IPEndpoint: ForwardFlow] = [:]
    private var closedFlows = RingBuffer<ForwardFlowSnapshot>(capacity: Forward.closedFlowsKept)
    private var flowsOpened = 0
    private var drops: [ForwardDropReason: Int] = [:]
    /// Datagrams passed over at the flow limit since the last line said so (one a minute at most).
    private var limitLog: (last: NIODeadline, passedOver: Int)?
    private var sweep: Scheduled<Void>?
    private(set) var isRunning = true
    /// Replies to the applications, written during an association's read and flushed at its end.
    private var replyBuffers = SendBuffers()
    /// The associations whose sends wait for the end of the local socket's read being handled.
    private var holdingAssociations: [Association] = []
    private var inLocalRead = false

    init(
        id: ForwardID,
        spec: ForwardSpec,
        server: ServerDefinition,
        endpoint: IPEndpoint,
        otherAddresses: [IPAddress],
        options: ForwardOptions,
        core: EngineCore,
        group: EventLoopGroup,
        report: (@Sendable (ForwardEvent) -> Void)?
    ) {
        self.id = id
        self.spec = spec
        self.server = server
        self.endpoint = endpoint
        self.otherAddresses = otherAddresses
        self.options = options
        self.core = core
        self.group = group
        self.report = report
    }

    /// Checks for idle flows a few times per idle timeout (at least once a second).
    func startSweeping() {
        scheduleSweep()
        emit(.listening, nil, nil, "listening on \(spec.local) for \(spec.target) through \(server.name)")
    }

    private func scheduleSweep() {
        let period = min(Duration.seconds(1), options.idleTimeout / 4)
        sweep = core.loop.assumeIsolated().scheduleTask(in: max(TimeAmount(period), .milliseconds(10))) { [self] in
            closeIdleFlows()
            if isRunning { scheduleSweep() }
        }
    }

    // MARK: - Datagrams

    /// A datagram from an application: its flow's, or a new flow's while there is room.
    func received(_ buffer: ByteBuffer, from client: IPEndpoint) {
        guard isRunning else { return }
        if let flow = flows[client] { return flow.received(fromClient: buffer) }
        guard flows.count < options.maximumFlows else { return passOverAtLimit(client) }
        let flow = ForwardFlow(client: client, forward: self)
        flows[client] = flow
        flowsOpened += 1
        flow.received(fromClient: buffer)
        emit(.flowOpened, flow, flow.currentAssociation, "new client \(client): opening \(flow.currentAssociation!)")
    }

    private func passOverAtLimit(_ client: IPEndpoint) {
        drops[.flowLimit, default: 0] += 1
        let now = NIODeadline.now()
        if let last = limitLog, now - last.last < .minutes(1) {
            limitLog?.passedOver += 1
            return
        }
        let since = limitLog.map { " (\($0.passedOver) more datagram(s) dropped since the last line)" } ?? ""
        limitLog = (now, 0)
        emit(
            .limitReached,
            nil,
            nil,
            "\(options.maximumFlows) flows are open, the most this forward serves: the datagram from new client "
                + "\(client) is dropped until a flow goes idle (\(options.idleTimeout.words)); "
                + "raise --max-flows\(since)",
            client: client,
            level: .warning
        )
    }

    func openAssociation(for flow: ForwardFlow) -> AssociationID {
        let id = core.open(
            server: server,
            endpoint: endpoint,
            otherAddresses: otherAddresses,
            family: endpoint.family,
            group: group
        )
        core.associations[id]?.subscribe(flow)
        core.log(.info, id, "opened for forward \(self.id) \(spec), client \(flow.client)")
        return id
    }

    /// Sends one application datagram through the association; the error when it was not sent.
    /// During a read of the local socket the send waits for the read's end (`localReadEnded`).
    func send(_ buffer: ByteBuffer, through association: AssociationID) -> EngineError? {
        if inLocalRead, let a = core.associations[association], !a.sendBuffers.holding {
            a.sendBuffers.hold()
            holdingAssociations.append(a)
        }
        return core.send(association, to: spec.target, payloadLength: buffer.readableBytes, promise: nil) {
            $0.writeImmutableBuffer(buffer)
        }
    }

    func localReadBegan() { inLocalRead = true }

    /// The local socket's read is over: each association it sent through flushes once.
    func localReadEnded() {
        inLocalRead = false
        for a in holdingAssociations where a.sendBuffers.release() { a.data?.flush() }
        holdingAssociations.removeAll(keepingCapacity: true)
    }

    /// A reply to the application, header stripped. False when the local socket is gone. Replies
    /// come during an association's read, and go out at its end (`repliesReadEnded`).
    func reply(_ payload: ByteBufferView, to flow: ForwardFlow) -> Bool {
        guard let channel, channel.isActive else { return false }
        replyBuffers.hold()
        var buffer = replyBuffers.take(capacity: payload.count, channel.allocator)
        buffer.writeBytes(payload)
        let envelope = AddressedEnvelope(remoteAddress: flow.clientAddress, data: buffer)
        if replyBuffers.written(buffer) {
            channel.writeAndFlush(envelope, promise: nil)
        } else {
            channel.write(envelope, promise: nil)
        }
        return true
    }

    /// The association's read that brought replies is over: they go out in one flush.
    func repliesReadEnded() {
        if replyBuffers.release() { channel?.flush() }
    }

    // MARK: - What flows report

    /// A flow's figures or state changed without any association's doing (a drop while it waits
    /// to reopen): screens that redraw on the engine's revision must see it.
    func changed() { core.viewRevision.advance() }

    func note(_ flow: ForwardFlow, _ message: String, level: EngineEvent.Level = .info) {
        core.log(level, flow.currentAssociation, "forward \(id) client \(flow.client): \(message)")
    }

    func dropped(_ flow: ForwardFlow, _ message: String) {
        emit(.dropped, flow, flow.currentAssociation, "client \(flow.client): \(message)", level: .warning)
    }

    func associationLost(_ flow: ForwardFlow, _ association: AssociationID, _ message: String) {
        emit(.associationLost, flow, association, message, level: .warning)
    }

    func openFailed(_ flow: ForwardFlow, _ association: AssociationID, _ message: String) {
        emit(.error, flow, association, message, level: .error)
    }

    /// Closes the flow's live association without it being reported as lost, and forgets every
    /// association the flow opened: the flow's own figures keep what they carried, and a
    /// long-running forward (a new flow per DNS query) must not keep thousands of them.
    func release(_ associations: [AssociationID], of flow: ForwardFlow) {
        for id in associations {
            guard let association = core.associations[id] else { continue }
            association.unsubscribe(flow)
            association.close(because: "forward flow closed", by: .engine)
            core.associations[id] = nil
        }
    }

    // MARK: - Ending

    private func closeIdleFlows() {
        let now = NIODeadline.now()
        let limit = TimeAmount(options.idleTimeout)
        for flow in flows.values where now - flow.lastActivity >= limit {
            close(flow, because: "idle for \(options.idleTimeout.words)")
        }
    }

    private func close(_ flow: ForwardFlow, because reason: String) {
        flow.close(because: reason)
        flows[flow.client] = nil
        let snapshot = flow.snapshot
        closedFlows.append(snapshot)
        emit(.flowClosed, flow, snapshot.association, "client \(flow.client) closed: \(reason)", flow: snapshot)
    }

    /// Stops listening and closes every flow; the future completes when the socket is closed.
    func stop() -> EventLoopFuture<Void> {
        guard isRunning else { return core.loop.makeSucceededVoidFuture() }
        isRunning = false
        sweep?.cancel()
        for flow in flows.values.sorted(by: { $0.opened < $1.opened }) {
            close(flow, because: "the forward stopped")
        }
        let limited = drops[.flowLimit].map { ", \($0) datagram(s) dropped at the flow limit" } ?? ""
        emit(.stopped, nil, nil, "stopped: \(flowsOpened) flow(s) served\(limited)")
        guard let channel else { return core.loop.makeSucceededVoidFuture() }
        return channel.close().recover { _ in }
    }

    private func emit(
        _ kind: ForwardEvent.Kind,
        _ flow: ForwardFlow?,
        _ association: AssociationID?,
        _ message: String,
        client: IPEndpoint? = nil,
        level: EngineEvent.Level = .info,
        flow snapshot: ForwardFlowSnapshot? = nil
    ) {
        core.log(level, association, "forward \(id) \(spec): \(message)")
        report?(
            ForwardEvent(
                time: Date(),
                forward: id,
                kind: kind,
                client: flow?.client ?? client,
                association: association,
                message: message,
                flow: snapshot
            )
        )
    }

    var snapshot: ForwardSnapshot {
        let open = flows.values.sorted { $0.client.description < $1.client.description }.map(\.snapshot)
        return ForwardSnapshot(
            id: id,
            serverName: server.name,
            spec: spec.description,
            local: spec.local,
            target: spec.target,
            flows: open + closedFlows.elements.reversed(),
            openFlows: open.count,
            flowsOpened: flowsOpened,
            drops: drops,
            isRunning: isRunning
        )
    }
}

/// Reads the forward's local socket on the engine's loop and hands each datagram to the forward;
/// the sends of one read go out together at its end.
final class ForwardListenerHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let forward: NIOLoopBound<Forward>

    init(_ forward: NIOLoopBound<Forward>) { self.forward = forward }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let client = IPEndpoint(envelope.remoteAddress) else { return }
        forward.value.localReadBegan()
        forward.value.received(envelope.data, from: client)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        forward.value.localReadEnded()
        context.fireChannelReadComplete()
    }

    /// A send to a client that has gone (ECONNREFUSED from its ICMP port unreachable) ends nothing.
    func errorCaught(context: ChannelHandlerContext, error: Error) {}
}
