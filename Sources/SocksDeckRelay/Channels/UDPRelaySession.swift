import Dispatch
import NIOCore
import NIOPosix
import Socks5
import Socks5NIO
import UDPChecks

#if canImport(Glibc)
import Glibc
#endif

/// One UDP association on the relay side: a client-facing socket (its address is the BND the
/// client sends to) and outbound sockets towards the targets, made on demand: one per family, or
/// per destination address (and port) when `serve --mapping` says so; `--filtering` decides which
/// senders each takes back.
/// RFC 1928's rules: datagrams are taken only from the client's address (the declared one when
/// the client declared one, else the control connection's peer IP, with the port locked by the
/// first datagram), FRAG ≠ 0 is dropped, and everything ends with the control connection.
/// Confined to the control connection's event loop.
final class UDPRelaySession: @unchecked Sendable {
    let eventLoop: EventLoop
    let clientIP: IPAddress
    private(set) var clientPort: UInt16? {
        didSet { clientAddress = clientPort.map { IPEndpoint(clientIP, port: $0).nioAddress } }
    }
    /// Where replies go, as NIO's address: made when the port is known, not per datagram.
    private(set) var clientAddress: SocketAddress?
    private let statistics: StatisticsBox
    private let log: @Sendable (RelayEvent) -> Void
    private let maximumDatagram: Int
    /// `serve --latency`: how long each relayed datagram waits (nil: none).
    private let latency: TimeAmount?
    /// `serve --cut-datagrams`: the payload bytes a relayed datagram keeps.
    private let cutDatagramsAt: Int?
    private let label: String
    /// `serve --pcap`: this association's capture, shared with its control connection.
    let capture: RelayCapture?
    /// The client-facing socket's address (the BND), for the capture.
    private(set) var clientFacing: IPEndpoint?
    var clientChannel: Channel?
    private var outbound: [OutboundKey: EventLoopFuture<Channel>] = [:]
    /// The outbound sockets once bound: the per-datagram path writes to them directly.
    private(set) var outboundReady: [OutboundKey: Channel] = [:]
    private let mapping: NATBehaviour
    private let filtering: NATBehaviour
    /// Where each outbound socket has sent: what a dependent filter lets back in.
    private var sentFrom: [OutboundKey: Set<IPEndpoint>] = [:]
    /// Datagrams written towards targets since the last flush: a burst read with one
    /// recvmmsg leaves with one sendmmsg.
    private var outboundUnflushed = false
    private(set) var lastActivity = NIODeadline.now()
    private var closed = false

    /// What the client's request declared as DST, for the words of a drop.
    private let declared: SOCKSAddress
    private let sourceCheck: SourceCheck
    /// True while the port is the declared one (not yet learnt from a datagram).
    private let portFromDeclaration: Bool

    init(
        eventLoop: EventLoop,
        clientIP: IPAddress,
        declared: SOCKSAddress,
        declaredPort: UInt16?,
        sourceCheck: SourceCheck,
        mapping: NATBehaviour = .endpointIndependent,
        filtering: NATBehaviour = .endpointIndependent,
        maximumDatagram: Int,
        latency: Duration = .zero,
        cutDatagramsAt: Int? = nil,
        statistics: StatisticsBox,
        label: String,
        capture: RelayCapture? = nil,
        log: @escaping @Sendable (RelayEvent) -> Void
    ) {
        self.capture = capture
        self.eventLoop = eventLoop
        self.clientIP = clientIP.unmapped
        self.declared = declared
        self.sourceCheck = sourceCheck
        self.mapping = mapping
        self.filtering = filtering
        portFromDeclaration = declaredPort != nil
        self.clientPort = declaredPort
        clientAddress = declaredPort.map { IPEndpoint(clientIP.unmapped, port: $0).nioAddress }
        self.maximumDatagram = maximumDatagram
        self.latency = latency > .zero ? TimeAmount(latency) : nil
        self.cutDatagramsAt = cutDatagramsAt
        self.statistics = statistics
        self.label = label
        self.log = log
    }

    /// Binds the client-facing socket on `address` (port 0) and returns its address: the BND.
    func bindClientSide(on address: IPAddress) -> EventLoopFuture<IPEndpoint> {
        Self.datagramBootstrap(eventLoop)
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ClientSideHandler(session: self))
                }
            }
            .bind(to: IPEndpoint(address, port: 0).nioAddress)
            .flatMapThrowing { [self] channel in
                clientChannel = channel
                guard let bound = IPEndpoint(channel.localAddress) else { throw ChannelError.unknownLocalAddress }
                clientFacing = bound
                return bound
            }
    }

    func close() {
        guard !closed else { return }
        closed = true
        clientChannel?.close(promise: nil)
        for (_, future) in outbound { future.whenSuccess { $0.close(promise: nil) } }
        outbound = [:]
        outboundReady = [:]
    }

    /// Vector I/O: up to `vectorCount` datagrams per recvmmsg, each slot large enough for the
    /// largest UDP datagram (NIO cuts one buffer into equal slots and does not report
    /// truncation, so smaller slots would cut large datagrams). The buffer is pooled and reused.
    /// Its memory is all resident: NIO's pool copies the fresh buffer whole on the first read
    /// (measured: 200 associations through `serve` added 320 MB of RSS, 1.6 MB each, 1 MB of it
    /// the client and outbound channels' buffers). The engine gives such pages back
    /// (`ReceiveBufferPages`), but here the slots no datagram reached are outside every slice
    /// handed over; fixing it needs a read path of our own.
    /// Writes made while handling a read are flushed once at its end, which NIO turns into one
    /// sendmmsg.
    static let vectorCount = 8

    static func datagramBootstrap(_ eventLoop: EventLoop) -> DatagramBootstrap {
        DatagramBootstrap(group: eventLoop)
            .channelOption(.datagramVectorReadMessageCount, value: vectorCount)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: vectorCount * 65_536))
    }

    func drop(_ reason: DatagramDropReason, _ detail: String) {
        statistics.update { $0.drops[reason, default: 0] += 1 }
        log(RelayEvent(kind: .dropped, client: label, message: "dropped \(detail): \(reason.rawValue)"))
    }

    // MARK: Client to target

    /// A datagram the relay does not take: the counter's key and the words of its log line.
    private struct Refusal {
        var reason: DatagramDropReason
        var detail: String
    }

    /// The source check (see `SourceCheck`); a refusal says where the expectation came from.
    private func checkSource(_ source: IPEndpoint) -> Refusal? {
        if sourceCheck == .none {
            adoptAnySource(source)
            return nil
        }
        guard source.address.unmapped == clientIP else {
            let expected =
                if let d = declared.endpoint, !d.address.isUnspecified {
                    "the client declared \(d) in its UDP ASSOCIATE request"
                } else {
                    "the client's control connection comes from \(clientIP)"
                }
            return Refusal(reason: .foreignSource, detail: "a datagram from \(source): \(expected)")
        }
        if let port = clientPort, port != source.port {
            if portFromDeclaration {
                return Refusal(
                    reason: .undeclaredSourcePort,
                    detail: "a datagram from \(source): the client declared \(declared) in its UDP ASSOCIATE "
                        + "request; datagrams come from port \(source.port) (serve --source-check address takes them)"
                )
            }
            return Refusal(
                reason: .foreignSourcePort,
                detail: "a datagram from \(source): the association is locked to port \(port), "
                    + "the source of its first datagram"
            )
        }
        if clientPort == nil { clientPort = source.port }
        return nil
    }

    /// `--source-check none`: replies follow the latest source.
    private func adoptAnySource(_ source: IPEndpoint) {
        clientAddress = source.nioAddress
    }

    fileprivate func fromClient(_ envelope: AddressedEnvelope<ByteBuffer>) {
        let buffer = envelope.data
        guard let source = IPEndpoint(envelope.remoteAddress) else { return }
        func refuse(_ refusal: Refusal) {
            drop(refusal.reason, refusal.detail)
            captureWire(
                buffer,
                from: source,
                comment: "dropped by the relay: \(refusal.detail): \(refusal.reason.rawValue)"
            )
        }
        if let refusal = checkSource(source) { return refuse(refusal) }
        lastActivity = .now()
        let verdict = buffer.withUnsafeReadableBytes {
            DatagramFilter.header(length: buffer.readableBytes, largestWhole: maximumDatagram, headerBytes: $0)
        }
        let header: UDPDatagramHeader
        let offset: Int
        switch verdict {
        case .accepted(let accepted): (header, offset) = (accepted.header, accepted.payloadOffset)
        case .dropped(let reason):
            let size = buffer.readableBytes
            let detail =
                switch reason {
                case .fragmented:
                    "a fragment (FRAG \(buffer.getInteger(at: buffer.readerIndex + 2, as: UInt8.self) ?? 0))"
                case .malformedHeader: "a \(size)-byte datagram with a malformed header"
                default: "a \(size)-byte datagram"
                }
            return refuse(Refusal(reason: reason, detail: detail))
        }
        captureWire(buffer, from: source, comment: nil)
        let payload = buffer.getSlice(at: buffer.readerIndex + offset, length: buffer.readableBytes - offset)!
        switch header.address {
        case .ip(let target):
            forward(payload, to: target, flush: false)
        case .domain(let name, let port):
            // Name lookups block: they run off the event loop, and the datagram follows.
            let host = name.description
            DispatchQueue.global().async { [self] in
                let resolved = NameResolution.resolve(host, port: port, datagram: true)
                eventLoop.execute {
                    guard let resolved else {
                        self.drop(.unresolvable, "a datagram for \(host):\(port), which does not resolve")
                        return
                    }
                    self.forward(payload, to: resolved, flush: true)
                }
            }
        }
    }

    /// Runs `body` now, or after `--latency` on this loop (equal deadlines run in the order
    /// scheduled, so datagrams keep their order).
    private func afterLatency(_ body: @escaping () -> Void) {
        guard let latency else { return body() }
        eventLoop.assumeIsolated().scheduleTask(in: latency) { [self] in
            if !closed { body() }
        }
    }

    /// `--cut-datagrams`: the payload as this relay passes it on.
    private func cut(_ payload: ByteBuffer) -> ByteBuffer {
        guard let limit = cutDatagramsAt, payload.readableBytes > limit else { return payload }
        statistics.update { $0.datagramsCut += 1 }
        return payload.getSlice(at: payload.readerIndex, length: limit)!
    }

    private func forward(_ whole: ByteBuffer, to target: IPEndpoint, flush: Bool) {
        guard !closed else { return }
        var payload = cut(whole)
        if latency != nil {
            // A copy: the slice would hold the whole vector-read buffer (8 × 64 KiB) while it waits.
            payload = ByteBuffer(bytes: payload.readableBytesView)
            return afterLatency { [self] in relay(payload, to: target, flush: true) }
        }
        relay(payload, to: target, flush: flush)
    }

    private func relay(_ payload: ByteBuffer, to target: IPEndpoint, flush: Bool) {
        let envelope = AddressedEnvelope(remoteAddress: target.nioAddress, data: payload)
        statistics.update { $0.datagramsToTargets += 1 }
        let key = OutboundKey(target, mapping: mapping)
        if filtering != .endpointIndependent { sentFrom[key, default: []].insert(target) }
        if let channel = outboundReady[key] {
            captureInner(payload, from: channel, to: target)
            if flush { channel.writeAndFlush(envelope, promise: nil) } else { channel.write(envelope, promise: nil) }
            outboundUnflushed = outboundUnflushed || !flush
            return
        }
        // The first datagram of a socket waits for it to be bound.
        outboundChannel(key).whenSuccess { [self] channel in
            captureInner(payload, from: channel, to: target)
            channel.writeAndFlush(envelope, promise: nil)
        }
    }

    /// The end of a read from the client: what it forwarded leaves now.
    fileprivate func flushOutbound() {
        guard outboundUnflushed else { return }
        outboundUnflushed = false
        for channel in outboundReady.values { channel.flush() }
    }

    private func outboundChannel(_ key: OutboundKey) -> EventLoopFuture<Channel> {
        if let existing = outbound[key] { return existing }
        let future = Self.datagramBootstrap(eventLoop)
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(TargetSideHandler(session: self, key: key))
                }
            }
            .bind(to: IPEndpoint(.unspecified(key.family), port: 0).nioAddress)
        outbound[key] = future
        future.whenSuccess { [self] channel in
            if closed { channel.close(promise: nil) } else { outboundReady[key] = channel }
        }
        return future
    }

    /// `--filtering`: whether the socket `key` takes a datagram from `sender`.
    private func filterAccepts(_ sender: IPEndpoint, on key: OutboundKey) -> Bool {
        switch filtering {
        case .endpointIndependent: return true
        case .addressDependent: return sentFrom[key]?.contains { $0.address == sender.address } ?? false
        case .addressAndPortDependent: return sentFrom[key]?.contains(sender) ?? false
        }
    }

    // MARK: Target to client

    fileprivate func fromTarget(_ envelope: AddressedEnvelope<ByteBuffer>, on key: OutboundKey) {
        guard let client = clientChannel, let clientAddress, let sender = IPEndpoint(envelope.remoteAddress) else {
            drop(.noClientYet, "a reply from \(envelope.remoteAddress)")
            return
        }
        guard filterAccepts(sender, on: key) else {
            let detail =
                "a datagram from \(sender): --filtering \(filtering.rawValue) takes only "
                + (filtering == .addressDependent ? "addresses" : "addresses and ports")
                + " this relay socket has sent to"
            drop(.filtered, detail)
            captureFromTarget(
                envelope.data,
                sender: sender,
                on: key,
                relayed: nil,
                comment: "dropped by the relay: \(detail)"
            )
            return
        }
        lastActivity = .now()
        let header = UDPDatagramHeader(address: .ip(sender))
        var out = client.allocator.buffer(capacity: header.encodedLength + envelope.data.readableBytes)
        out.writeWithUnsafeMutableBytes(minimumWritableBytes: header.encodedLength) { header.write(into: $0) }
        var payload = cut(envelope.data)
        out.writeBuffer(&payload)
        let reply = AddressedEnvelope(remoteAddress: clientAddress, data: out)
        guard latency == nil else {
            // Counted and captured when it leaves (`out` is a copy: nothing of the read is held).
            let original = ByteBuffer(bytes: envelope.data.readableBytesView)
            return afterLatency { [self] in
                statistics.update { $0.datagramsToClients += 1 }
                captureFromTarget(original, sender: sender, on: key, relayed: out, comment: nil)
                client.writeAndFlush(reply, promise: nil)
            }
        }
        statistics.update { $0.datagramsToClients += 1 }
        captureFromTarget(envelope.data, sender: sender, on: key, relayed: out, comment: nil)
        client.write(reply, promise: nil)
    }

    /// The end of a read from a target: the replies leave now.
    fileprivate func flushClient() { clientChannel?.flush() }
}

private final class ClientSideHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let session: UDPRelaySession
    init(session: UDPRelaySession) { self.session = session }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { session.fromClient(unwrapInboundIn(data)) }
    func channelReadComplete(context: ChannelHandlerContext) { session.flushOutbound() }
    func errorCaught(context: ChannelHandlerContext, error: Error) {}
}

private final class TargetSideHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let session: UDPRelaySession
    let key: OutboundKey
    init(session: UDPRelaySession, key: OutboundKey) {
        self.session = session
        self.key = key
    }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        session.fromTarget(unwrapInboundIn(data), on: key)
    }
    func channelReadComplete(context: ChannelHandlerContext) { session.flushClient() }
    // Errors on the outbound socket end nothing. (ICMP errors from targets do not come here:
    // Linux keeps them from unconnected UDP sockets.)
    func errorCaught(context: ChannelHandlerContext, error: Error) {}
}
