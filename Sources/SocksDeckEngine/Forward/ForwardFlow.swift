import Foundation
import NIOCore
import Socks5
import Socks5NIO

/// One local client of a forward (its source address and port) and the association that carries
/// its datagrams, opened by its first datagram as ss-local does. Lives on the engine's loop, like
/// the forward that owns it; not Sendable.
final class ForwardFlow: AssociationSubscriber {
    /// Bytes of each recent datagram kept: a DNS answer with a few records fits.
    static let keptBytes = 512
    static let recentKept = 32
    /// Datagrams held while the association opens (an application's first burst, a QUIC Initial
    /// and its retransmissions): more are dropped rather than held without bound.
    static let queueLimit = 32

    enum Stage {
        case opening(AssociationID)
        case associated(AssociationID)
        /// The association ended after it was associated; the next datagram opens another at once.
        case lost(because: String)
        /// Opening failed; the next attempt waits until `until`.
        case waiting(until: NIODeadline, because: String)
        case closed(because: String)
    }

    let client: IPEndpoint
    let clientAddress: SocketAddress
    private unowned let forward: Forward
    private(set) var stage: Stage
    private(set) var associations: [AssociationID] = []
    private var queued: [ByteBuffer] = []
    private var consecutiveFailures = 0
    /// For a target given by name: the address its replies come from, which only the relay knows
    /// (it resolved the name); learned from the first reply of each association.
    private var targetSender: SOCKSAddress?
    /// Whether the drop of this kind was logged already (each is logged once per flow).
    private var loggedDrops: Set<ForwardDropReason> = []
    let opened = Date()
    private var closed: Date?
    private(set) var lastActivity = NIODeadline.now()
    private var lastActivityDate = Date()
    private var counts = Counts()
    private var recent = KeptBytesRing<Remembered>(
        capacity: ForwardFlow.recentKept,
        bytesPerEntry: ForwardFlow.keptBytes
    )

    private struct Remembered: Sendable {
        var time: Date
        var direction: ForwardedDatagram.Direction
        var size: Int
    }

    private struct Counts {
        var datagramsFromClient = 0
        var bytesFromClient = 0
        var datagramsForwarded = 0
        var datagramsFromTarget = 0
        var bytesFromTarget = 0
        var drops: [ForwardDropReason: Int] = [:]
    }

    init(client: IPEndpoint, forward: Forward) {
        self.client = client
        clientAddress = client.nioAddress
        self.forward = forward
        stage = .lost(because: "not opened yet")
    }

    var isOpen: Bool {
        if case .closed = stage { return false }
        return true
    }

    var currentAssociation: AssociationID? {
        switch stage {
        case .opening(let id), .associated(let id): id
        default: associations.last
        }
    }

    // MARK: - From the application

    func received(fromClient buffer: ByteBuffer) {
        touch()
        counts.datagramsFromClient += 1
        counts.bytesFromClient += buffer.readableBytes
        remember(.request, buffer.readableBytesView)
        switch stage {
        case .associated(let id):
            send(buffer, through: id)
        case .opening:
            enqueue(buffer)
        case .lost:
            open()
            enqueue(buffer)
        case .waiting(let until, let because):
            guard NIODeadline.now() >= until else {
                let seconds = Double((until - NIODeadline.now()).nanoseconds) / 1e9
                drop(.noAssociation, detail: "\(because); the next attempt in \(String(format: "%.1f", seconds)) s")
                return
            }
            open()
            enqueue(buffer)
        case .closed:
            break
        }
    }

    private func enqueue(_ buffer: ByteBuffer) {
        guard queued.count < Self.queueLimit else {
            drop(.queueFull, detail: "\(Self.queueLimit) datagrams already wait for the association")
            return
        }
        // A copy: the buffer is a slot of the local socket's batch, which NIO reuses only once
        // nothing holds any of it.
        queued.append(ByteBufferAllocator().buffer(buffer: buffer))
    }

    private func send(_ buffer: ByteBuffer, through id: AssociationID) {
        switch forward.send(buffer, through: id) {
        case nil:
            counts.datagramsForwarded += 1
        case .invalidArgument(let why):
            drop(.tooLarge, detail: why)
        case let error?:
            drop(.noAssociation, detail: error.description)
        }
    }

    private func open() {
        let id = forward.openAssociation(for: self)
        associations.append(id)
        targetSender = nil
        stage = .opening(id)
    }

    // MARK: - From the association

    func association(_ id: AssociationID, received payload: ByteBufferView, from sender: SOCKSAddress) {
        guard case .associated(let current) = stage, current == id else { return }
        guard isTarget(sender) else {
            drop(.notFromTarget, detail: "from \(sender), not \(forward.spec.target)")
            return
        }
        touch()
        counts.datagramsFromTarget += 1
        counts.bytesFromTarget += payload.count
        remember(.reply, payload)
        if !forward.reply(payload, to: self) {
            drop(.clientUnreachable, detail: "the local socket is closed")
        }
    }

    func associationReadEnded(_ id: AssociationID) { forward.repliesReadEnded() }

    /// The target as the relay names the sender of its replies: the same address (an IPv4-mapped
    /// one counts as the IPv4 one); for a name, the name itself or the one address it resolved to.
    private func isTarget(_ sender: SOCKSAddress) -> Bool {
        switch (forward.spec.target, sender) {
        case (.ip(let target), .ip(let from)):
            return target.port == from.port && target.address.unmapped == from.address.unmapped
        case (.domain, .domain):
            return sender == forward.spec.target
        case (.domain(_, let port), .ip(let from)):
            guard from.port == port else { return false }
            if let learned = targetSender { return learned == .ip(IPEndpoint(from.address.unmapped, port: port)) }
            targetSender = .ip(IPEndpoint(from.address.unmapped, port: port))
            forward.note(self, "\(forward.spec.target) answers from \(from) (the relay resolved the name)")
            return true
        case (.ip, .domain):
            return false
        }
    }

    func association(_ id: AssociationID, settledAs state: ControlConnectionState) {
        guard case .opening(let current) = stage, current == id else {
            if case .associated(let current) = stage, current == id, state.isFinal {
                let why = if case .closed(let reason) = state { reason } else { state.description }
                stage = .lost(because: "association \(id) ended: \(why)")
                forward.associationLost(self, id, "association \(id) ended (\(why)); the next datagram opens another")
            }
            return
        }
        switch state {
        case .associated:
            consecutiveFailures = 0
            stage = .associated(id)
            let waiting = queued
            queued.removeAll()
            for buffer in waiting { send(buffer, through: id) }
        case .failed, .closed:
            consecutiveFailures += 1
            let options = forward.options
            let factor = Int64(1) << Int64(min(consecutiveFailures - 1, 20))
            let backoff = min(options.initialBackoff * factor, options.maximumBackoff)
            let why =
                switch state {
                case .failed(let failure): "association \(id) failed: \(failure.name): \(failure.sentence)"
                case .closed(let reason): "association \(id) closed before it was associated: \(reason)"
                default: "association \(id) ended"
                }
            stage = .waiting(until: .now() + TimeAmount(backoff), because: why)
            let lost = queued.count
            queued.removeAll()
            counts.drops[.noAssociation, default: 0] += lost
            forward.openFailed(self, id, "\(why); \(lost) datagram(s) dropped, the next attempt after \(backoff.words)")
        default:
            break
        }
    }

    // MARK: - Ending

    /// Ends the flow: its association is closed (not reported as lost) and forgotten by the engine.
    func close(because reason: String) {
        guard isOpen else { return }
        stage = .closed(because: reason)
        closed = Date()
        queued.removeAll()
        forward.release(associations, of: self)
    }

    // MARK: - Records

    private func touch() {
        lastActivity = .now()
        lastActivityDate = Date()
    }

    private func remember(_ direction: ForwardedDatagram.Direction, _ bytes: ByteBufferView) {
        recent.append(Remembered(time: lastActivityDate, direction: direction, size: bytes.count), firstBytes: bytes)
    }

    private func drop(_ reason: ForwardDropReason, detail: String) {
        counts.drops[reason, default: 0] += 1
        forward.changed()
        guard loggedDrops.insert(reason).inserted else { return }
        forward.dropped(self, "dropped a datagram: \(reason) (\(detail)); further ones are counted")
    }

    var stateDescription: String {
        switch stage {
        case .opening(let id): "opening \(id)"
        case .associated(let id): "associated \(id)"
        case .lost(let because): "idle: \(because)"
        case .waiting(let until, let because):
            "waiting \(String(format: "%.1f", max(0, Double((until - .now()).nanoseconds) / 1e9))) s: \(because)"
        case .closed(let because): "closed: \(because)"
        }
    }

    var snapshot: ForwardFlowSnapshot {
        ForwardFlowSnapshot(
            client: client,
            association: currentAssociation,
            associations: associations,
            state: stateDescription,
            isOpen: isOpen,
            opened: opened,
            closed: closed,
            lastActivity: lastActivityDate,
            datagramsFromClient: counts.datagramsFromClient,
            bytesFromClient: counts.bytesFromClient,
            datagramsForwarded: counts.datagramsForwarded,
            datagramsFromTarget: counts.datagramsFromTarget,
            bytesFromTarget: counts.bytesFromTarget,
            drops: counts.drops,
            recent: recent.elements.map { r, bytes in
                ForwardedDatagram(time: r.time, direction: r.direction, size: r.size, bytes: bytes)
            }
        )
    }
}
