import Foundation
import NIOCore
import Socks5

#if canImport(Glibc)
import Glibc
#endif

/// The engine's record of one association. Confined to the engine's single event loop: it is
/// not Sendable, so the compiler keeps it there.
final class Association {
    let id: AssociationID
    let server: ServerDefinition
    let family: AddressFamily
    let opened = Date()
    private(set) weak var engine: EngineCore?

    /// Where it stands and how it got there; only legal moves are taken (AssociationLifecycle).
    private var lifecycle = AssociationLifecycle()
    var state: ControlConnectionState { lifecycle.state }
    var history: [(state: ControlConnectionState, since: Date)] { lifecycle.history }
    var control: Channel?
    var data: Channel?
    // The endpoints' text is made once, when they become known: snapshots are taken ten times
    // a second for every association on screen, and formatting was a third of their cost.
    var controlLocal: IPEndpoint? {
        didSet {
            controlLocalText = controlLocal?.description
            changed()
        }
    }
    var controlRemote: IPEndpoint? {
        didSet {
            controlRemoteText = controlRemote?.description
            changed()
        }
    }
    var rendezvous: RendezvousAddress? {
        didSet {
            let socketFamily = dataSocketLocal?.family ?? .ipv6
            relayAddress = rendezvous.map { DataSocket.address($0.asUsed, for: socketFamily).nioAddress }
            changed()
        }
    }
    /// What the request declared as DST.ADDR:DST.PORT.
    var declared: SOCKSAddress? { didSet { changed() } }
    /// The rendezvous as NIO's address, made once: every datagram sent is addressed to it.
    private(set) var relayAddress: SocketAddress?
    var dataSocketLocal: IPEndpoint? {
        didSet {
            dataSocketLocalText = dataSocketLocal?.description
            changed()
        }
    }
    private var controlLocalText: String?
    private var controlRemoteText: String?
    private var dataSocketLocalText: String?
    /// Reads on the control connection after the reply, for logging only the first.
    private var controlReadsAfterReply = 0
    private(set) var counters = DatagramCounters()
    private(set) var ended: Date?
    private(set) var closedBy: AssociationCloser?
    private(set) var lastSent: Date?
    private(set) var lastReceived: Date?
    private var recent = RecentDatagramRing(capacity: 64)
    private var sendRate = RateMeter()
    /// The buffers datagrams are written into, and the writes held back during a read.
    var sendBuffers = SendBuffers()
    /// How long a read that found few datagrams waits before the next (RelayDatagramHandler), the
    /// data socket reading in batches meanwhile; nil reads each datagram as soon as it comes.
    private(set) var readGathering: TimeAmount?
    private var receiveRate = RateMeter()
    /// Features that follow this association without it knowing them (AssociationSubscriber):
    /// health probes, echo loads, the protocol checks' exchanges, forward flows.
    private var subscribers: [any AssociationSubscriber] = []
    /// Those of them that record the wire (the capture): asked for every byte, whole.
    private var wireObservers: [any AssociationSubscriber] = []
    /// Counts changes to anything a snapshot shows; a snapshot taken at the same generation is
    /// reused (a screen of a thousand associations asks for all of them ten times a second,
    /// and most have not changed in between).
    private var generation: UInt64 = 0
    private var lastSnapshot: (generation: UInt64, includingRecent: Bool, snapshot: AssociationSnapshot)?

    private func changed() {
        generation &+= 1
        viewRevision.advance()
    }
    /// The engine's, held here rather than reached through the weak `engine` on every change.
    private let viewRevision: ViewRevision
    /// Completed when the association is associated, failed or closed.
    let settled: EventLoopPromise<Void>

    init(id: AssociationID, server: ServerDefinition, family: AddressFamily, engine: EngineCore, eventLoop: EventLoop) {
        self.id = id
        self.server = server
        self.family = family
        self.engine = engine
        viewRevision = engine.viewRevision
        settled = eventLoop.makePromise()
    }

    /// Closes it, saying why and whose doing it is (nothing when it has ended already).
    func close(because reason: String, by closer: AssociationCloser) {
        guard !state.isFinal else { return }
        closedBy = closer
        transition(to: .closed(reason: reason))
    }

    func transition(to new: ControlConnectionState) {
        guard lifecycle.move(to: new) else {
            // After the end, late events are expected (an EOF after a close); before it, a
            // refused move is a bug in whoever reported it, and it must not pass unseen.
            if !state.isFinal, state != new {
                engine?.log(.warning, id, "internal: ignored a move from \(state.name) to \(new.name)")
            }
            return
        }
        changed()
        switch new {
        case .associated:
            engine?.log(.info, id, "associated: rendezvous \(rendezvous?.description ?? "?")")
        case .closed(let reason):
            ended = Date()
            engine?.log(.info, id, "closed: \(reason)")
            teardown()
        case .failed(let failure):
            ended = Date()
            engine?.log(.error, id, "failed: \(failure)")
            teardown()
        default:
            engine?.log(.info, id, new.name)
            return
        }
        // Subscribers first, so that they have seen the move before whoever waits for it runs.
        for subscriber in subscribers { subscriber.association(id, settledAs: new) }
        if new.isFinal {
            subscribers.removeAll { !$0.outlivesAssociation }
            wireObservers.removeAll { !$0.outlivesAssociation }
        }
        settled.succeed()
    }

    func subscribe(_ subscriber: any AssociationSubscriber) {
        subscribers.append(subscriber)
        if subscriber.observesWire { wireObservers.append(subscriber) }
        changed()
    }

    func unsubscribe(_ subscriber: any AssociationSubscriber) {
        subscribers.removeAll { $0 === subscriber }
        wireObservers.removeAll { $0 === subscriber }
        changed()
    }

    /// Whether anything records the wire: what the control connection's handler and the data
    /// socket must report beyond the payloads.
    var observesWire: Bool { !wireObservers.isEmpty }

    func wire(_ event: AssociationWire) {
        let current = wireObservers
        for i in current.indices { current[i].association(id, wire: event) }
    }

    /// A subscriber changed what it contributes to the snapshot outside a datagram or a move.
    func subscriberChanged() { changed() }

    /// The subscribers of one kind, for the feature that asks after its own.
    func subscribers<Kind: AssociationSubscriber>(of kind: Kind.Type) -> [Kind] {
        subscribers.compactMap { $0 as? Kind }
    }

    /// The data socket's read began: what it makes this association send waits for its end.
    func readBegan() { sendBuffers.hold() }

    /// The data socket's read is over: subscribers flush what it made them write; says whether
    /// this association's own writes wait for a flush.
    func readEnded() -> Bool {
        let current = subscribers
        for i in current.indices { current[i].associationReadEnded(id) }
        return sendBuffers.release()
    }

    /// Releases both sockets; the relay ends the association when the control connection goes.
    private func teardown() {
        control?.close(promise: nil)
        data?.close(promise: nil)
        control = nil
        data = nil
    }

    // MARK: - Datagrams (called on the loop by the data channel's handler and by sends)

    /// The size and first bytes of the datagram last sent to each target, to tell a reply that
    /// came back cut from one that is simply short (see `recordReceived`). Only the last one: with
    /// several different datagrams in flight to one target, a cut reply to an earlier one is not
    /// recognised (the probe's payload search, one at a time, is the tool for that). Bounded: a
    /// sweep over many targets forgets the older ones rather than growing without end.
    private var lastSentTo: [SOCKSAddress: SentHead] = [:]
    private static let sentHeadTargets = 64

    /// A datagram written to the relay: `headerLength` bytes of SOCKS header, then the payload.
    func recordSent(datagram: ByteBuffer, headerLength: Int, to target: SOCKSAddress, relay: IPEndpoint) {
        if observesWire { wire(.datagramSent(datagram, headerLength: headerLength, to: target, relay: relay)) }
        recordSent(to: target, payload: datagram.readableBytesView.dropFirst(headerLength))
    }

    private func recordSent(to target: SOCKSAddress, payload: ByteBufferView) {
        changed()
        if payload.count > SentHead.length, let head = SentHead(payload) {
            if lastSentTo[target] == nil, lastSentTo.count >= Self.sentHeadTargets {
                lastSentTo.removeAll(keepingCapacity: true)
            }
            lastSentTo[target] = head
        } else {
            lastSentTo[target] = nil
        }
        counters.datagramsSent += 1
        counters.bytesSent += payload.count
        lastSent = Date()
        sendRate.record(at: lastSent!)
        recent.append(direction: .sent, peer: target, size: payload.count, firstBytes: payload, dropReason: nil)
    }

    /// Reads in batches with `pause` between small ones (an echo load asked for it), or, with nil,
    /// each datagram as soon as it comes again.
    func gatherReads(_ pause: TimeAmount?) {
        guard pause != nil || readGathering != nil else { return }
        readGathering = pause
        if let data {
            DataSocketChannel.readInBatches(data, pause != nil, receiveBufferBytes: server.receiveBufferBytes)
        }
    }

    /// Bytes on the control connection after the reply: counted; the first reads logged with
    /// their bytes, later ones only counted (a server that sends a heartbeat every few seconds
    /// would fill the log). The association stays up: RFC 1928 gives them no meaning.
    func recordControlBytesAfterReply(_ bytes: [UInt8]) {
        changed()
        let before = counters.controlBytesAfterReply
        counters.controlBytesAfterReply += bytes.count
        controlReadsAfterReply += 1
        guard controlReadsAfterReply <= Self.controlReadsLogged else { return }
        let shown = bytes.prefix(32).map { hexByte($0) }.joined(separator: " ") + (bytes.count > 32 ? " …" : "")
        let text = String(decoding: bytes.prefix(32).map { (32...126).contains($0) ? $0 : 46 }, as: UTF8.self)
        engine?.log(
            .warning,
            id,
            "the server sent \(bytes.count) byte(s) on the control connection after its reply (\(before + bytes.count) "
                + "in all), which RFC 1928 gives no meaning: \(shown) \"\(text)\""
                + (controlReadsAfterReply == Self.controlReadsLogged ? "; further ones are counted, not logged" : "")
        )
    }

    static let controlReadsLogged = 3

    /// A send the engine refused before anything went to the socket (too large): logged with its
    /// reason, as a caller that drops the error (the UI's) must not make it vanish.
    func recordRefusedSend(_ reason: String) {
        engine?.log(.warning, id, "send refused: \(reason)")
    }

    func recordSendError(_ error: Error) {
        changed()
        counters.sendErrors += 1
        engine?.log(.warning, id, "send failed: \(EngineCore.describe(error))")
    }

    /// A datagram from the relay, its header parsed: `sender` is the header's, the payload starts
    /// at `payloadOffset`.
    func recordReceived(datagram: ByteBuffer, from source: IPEndpoint, sender: SOCKSAddress, payloadOffset: Int) {
        if observesWire {
            wire(.datagramReceived(datagram, from: source, delivered: (sender, payloadOffset), dropped: nil))
        }
        recordReceived(from: sender, payload: datagram.readableBytesView.dropFirst(payloadOffset))
    }

    private func recordReceived(from sender: SOCKSAddress, payload: ByteBufferView) {
        changed()
        if let sent = lastSentTo[sender], payload.count >= SentHead.length, payload.count < sent.size,
            sent.starts(payload)
        {
            counters.truncatedReplies += 1
            if counters.truncatedTo != payload.count {
                counters.truncatedTo = payload.count
                engine?.log(
                    .warning,
                    id,
                    "a reply from \(sender) is \(payload.count) bytes, the datagram sent to it \(sent.size), and it is "
                        + "that datagram's beginning: the path cuts datagrams to \(payload.count) bytes"
                )
            }
        }
        counters.datagramsReceived += 1
        counters.bytesReceived += payload.count
        lastReceived = Date()
        receiveRate.record(at: lastReceived!)
        recent.append(direction: .received, peer: sender, size: payload.count, firstBytes: payload, dropReason: nil)
        // By index over a copy (a subscriber may unsubscribe meanwhile): a for-in over the
        // existentials allocated once per datagram in an unoptimised build, which the
        // allocation tests count.
        let current = subscribers
        for i in current.indices { current[i].association(id, received: payload, from: sender) }
    }

    /// A datagram the data socket read and would not deliver.
    func recordDrop(_ reason: DatagramDropReason, datagram: ByteBuffer, from source: IPEndpoint?) {
        if observesWire, let source {
            wire(.datagramReceived(datagram, from: source, delivered: nil, dropped: reason.description))
        }
        recordDrop(reason, size: datagram.readableBytes, source: source.map { .ip($0) })
    }

    private func recordDrop(_ reason: DatagramDropReason, size: Int, source: SOCKSAddress?) {
        changed()
        counters.drops[reason, default: 0] += 1
        recent.append(direction: .dropped, peer: source, size: size, firstBytes: ByteBufferView(), dropReason: reason)
        let why =
            reason == .oversize
            ? "it filled the \(server.receiveBufferBytes)-byte receive buffer, so it may have been cut "
                + "(receive_buffer_bytes)"
            : reason.description
        engine?.log(
            .warning,
            id,
            "dropped a \(reason == .oversize ? "≥ " : "")\(size)-byte datagram from "
                + "\(source?.description ?? "?"): \(why)"
        )
    }

    func recordDataSocketError(_ error: Error) {
        changed()
        engine?.log(.warning, id, "data socket: \(EngineCore.describe(error))")
    }

    var snapshot: AssociationSnapshot { snapshot(includingRecent: true) }

    /// Without the recent datagrams (64 small arrays) when a list of many needs only counters.
    func snapshot(includingRecent: Bool) -> AssociationSnapshot {
        if let last = lastSnapshot, last.generation == generation, last.includingRecent == includingRecent {
            return last.snapshot
        }
        var snapshot = AssociationSnapshot(
            id: id,
            serverName: server.name,
            serverAddress: server.address,
            requestedFamily: family,
            state: state,
            history: history,
            controlLocal: controlLocalText,
            controlRemote: controlRemoteText,
            rendezvous: rendezvous,
            dataSocketLocal: dataSocketLocalText,
            declared: declared,
            counters: counters,
            opened: opened,
            ended: ended,
            lastSent: lastSent,
            lastReceived: lastReceived,
            sendRate: sendRate,
            receiveRate: receiveRate,
            recent: includingRecent ? recent.snapshot : [],
            probe: nil,
            revision: generation,
            closedBy: closedBy
        )
        let current = subscribers
        for i in current.indices { current[i].contribute(to: &snapshot) }
        lastSnapshot = (generation, includingRecent, snapshot)
        return snapshot
    }
}

/// An association's recent datagrams: when, which way, with whom, and their first bytes.
struct RecentDatagramRing {
    static let bytesPerEntry = 64

    private struct Entry: Sendable {
        var time: Date
        var direction: RecentDatagram.Direction
        var peer: SOCKSAddress?
        var size: Int
        var dropReason: DatagramDropReason?
    }

    private var ring: KeptBytesRing<Entry>

    init(capacity: Int) { ring = KeptBytesRing(capacity: capacity, bytesPerEntry: Self.bytesPerEntry) }

    mutating func append(
        direction: RecentDatagram.Direction,
        peer: SOCKSAddress?,
        size: Int,
        firstBytes: ByteBufferView,
        dropReason: DatagramDropReason?
    ) {
        ring.append(
            Entry(time: Date(), direction: direction, peer: peer, size: size, dropReason: dropReason),
            firstBytes: firstBytes
        )
    }

    var snapshot: [RecentDatagram] {
        ring.elements.map { e, bytes in
            RecentDatagram(
                time: e.time,
                direction: e.direction,
                peer: e.peer?.description ?? "?",
                size: e.size,
                firstBytes: bytes,
                dropReason: e.dropReason
            )
        }
    }
}

/// The size and first 32 bytes of a datagram sent: enough that an answer which merely starts
/// alike (DNS, STUN) is not taken for a cut echo. Held inline, so recording a send allocates
/// nothing, and compared with memcmp, so the receive path allocates nothing either.
struct SentHead {
    static let length = 32
    let size: Int
    private var bytes: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    init?(_ payload: ByteBufferView) {
        size = payload.count
        let copied: Bool? = payload.withContiguousStorageIfAvailable { source in
            withUnsafeMutableBytes(of: &bytes) {
                $0.copyMemory(from: UnsafeRawBufferPointer(start: source.baseAddress, count: Self.length))
            }
            return true
        }
        guard copied == true else { return nil }
    }

    /// True when `reply` begins with the same 32 bytes.
    func starts(_ reply: ByteBufferView) -> Bool {
        var head = bytes
        return reply.withContiguousStorageIfAvailable { r in
            withUnsafeBytes(of: &head) { memcmp(r.baseAddress!, $0.baseAddress!, Self.length) == 0 }
        } ?? false
    }
}
