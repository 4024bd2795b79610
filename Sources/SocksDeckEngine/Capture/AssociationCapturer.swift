import Foundation
import NIOCore
import PcapNG
import Socks5

/// An association's pcapng capture: it subscribes to the association's wire (control bytes and
/// whole datagrams) and keeps the packets in a ring (the TUI's `w`) or writes them to a file. It
/// outlives the association, so that the control connection's close is recorded and a ring can
/// still be saved once the association has ended.
final class AssociationCapturer: AssociationSubscriber {
    private var recorder: AssociationCapture
    private var ring: CaptureRing?
    private let file: CaptureFile?
    private let label: String
    /// Names the association's interfaces in a file several engines may write.
    private let key: String
    private let serverPort: UInt16
    /// For what the association learns as it goes (its sockets' addresses, why it ended).
    private weak var association: Association?

    /// Nil when the engine does not capture.
    init?(_ mode: CaptureMode, for association: Association, engineNumber: Int) {
        label = "#\(association.id.value) via \(association.server.name) (\(association.server.address))"
        key = engineNumber == 1 ? "\(association.id.value)" : "\(engineNumber).\(association.id.value)"
        serverPort = association.server.port
        recorder = AssociationCapture(label: label)
        self.association = association
        switch mode {
        case .off: return nil
        case .ring(let budget): (ring, file) = (CaptureRing(budget: budget), nil)
        case .file(let file): (ring, self.file) = (nil, file)
        }
    }

    var observesWire: Bool { true }
    var outlivesAssociation: Bool { true }

    func association(_ id: AssociationID, received payload: ByteBufferView, from sender: SOCKSAddress) {}

    func association(_ id: AssociationID, settledAs state: ControlConnectionState) {
        guard state == .associated else { return }
        recorder.note("associated: rendezvous \(association?.rendezvous?.description ?? "?")")
        // The handshake is done: the ring keeps what it has so far and bounds what follows.
        ring?.stopPinning()
    }

    func association(_ id: AssociationID, wire: AssociationWire) {
        let now = CaptureClock.now()
        switch wire {
        case .control(let traffic): control(traffic, at: now)
        case .datagramSent(let datagram, let headerLength, let target, let relay):
            let bytes = Array(datagram.readableBytesView)
            let (socket, likely) = (dataSocket, association?.controlLocal)
            keep {
                $0.clientSent(
                    bytes,
                    headerLength: headerLength,
                    to: target,
                    relay: relay,
                    dataSocket: socket,
                    likely: likely,
                    at: now
                )
            }
        case .datagramReceived(let datagram, let source, let delivered, let dropped):
            let bytes = Array(datagram.readableBytesView)
            let (socket, likely) = (dataSocket, association?.controlLocal)
            let comment = dropped.map { "dropped by SocksDeck: \($0)" }
            keep {
                $0.clientReceived(
                    bytes,
                    from: source,
                    dataSocket: socket,
                    likely: likely,
                    delivered: delivered,
                    at: now,
                    comment: comment
                )
            }
        }
    }

    private func control(_ traffic: ControlTraffic, at now: UInt64) {
        switch traffic {
        case .opened(let local, let remote): keep { $0.controlOpened(client: local, server: remote, at: now) }
        case .sent(let bytes): keep { $0.controlData(fromClient: true, bytes, at: now) }
        case .received(let bytes, let meaning):
            keep { $0.controlData(fromClient: false, bytes, at: now, comment: meaning) }
        case .ended(let reason):
            // Closed by SocksDeck when the association had already ended (the user, a failure),
            // by the server otherwise.
            let (byUs, why): (Bool, String) =
                switch association?.state {
                case .closed(let r)?: (true, "closed by SocksDeck: \(r)")
                case .failed(let failure)?: (true, "closed by SocksDeck after a failure: \(failure)")
                default: (false, reason)
                }
            keep { $0.controlClosed(byClient: byUs, at: now, comment: why) }
        }
    }

    /// The data socket as bound ([::]:port); its source address is inferred in the capture.
    private var dataSocket: IPEndpoint {
        association?.dataSocketLocal ?? IPEndpoint(.unspecified(.ipv6), port: 0)
    }

    /// Runs `body` on the recorder and keeps what it made.
    private func keep(_ body: (inout AssociationCapture) -> [CapturedPacket]) {
        let packets = body(&recorder)
        ring?.append(packets)
        file?.write(packets, of: key, label: label, serverPort: serverPort)
    }

    /// The capture so far, as a complete pcapng file (ring mode).
    func fileBytes() -> (bytes: [UInt8], packets: Int, dropped: Int)? {
        guard let ring else { return nil }
        var writer = PcapNGWriter()
        let packets = ring.packets
        let bytes = writer.encode(packets, of: key, label: label, serverPort: serverPort)
        return (bytes, packets.count, ring.dropped)
    }
}
