import Foundation
import NIOCore
import PcapNG
import Socks5

/// An association's capture: the sans-I/O recorder and where its packets go.
struct AssociationCaptureState {
    var recorder: AssociationCapture
    var ring: CaptureRing?
    let file: CaptureFile?
}

/// What the control connection's handler saw, for the capture.
enum ControlTraffic {
    case opened(local: IPEndpoint, remote: IPEndpoint)
    case sent([UInt8])
    /// Bytes read, and what they meant to the handshake when that is worth a comment.
    case received([UInt8], meaning: String?)
    /// The connection ended; `reason` is the handler's own words for a close by the server.
    case ended(reason: String)
}

extension Association {
    static func captureTime() -> UInt64 { CaptureClock.now() }

    var captureLabel: String { "#\(id.value) via \(server.name) (\(server.address))" }

    /// Names the association's interfaces in a file several engines may write.
    private var captureKey: String {
        let engineNumber = engine?.captureEngineNumber ?? 1
        return engineNumber == 1 ? "\(id.value)" : "\(engineNumber).\(id.value)"
    }

    func startCapture(_ mode: CaptureMode) {
        switch mode {
        case .off: return
        case .ring(let budget):
            capturing = AssociationCaptureState(
                recorder: AssociationCapture(label: captureLabel),
                ring: CaptureRing(budget: budget),
                file: nil
            )
        case .file(let file):
            capturing = AssociationCaptureState(
                recorder: AssociationCapture(label: captureLabel),
                ring: nil,
                file: file
            )
        }
    }

    /// Runs `body` on the recorder and keeps what it made (nothing at all when not capturing).
    func capture(_ body: (inout AssociationCapture) -> [CapturedPacket]) {
        guard var state = capturing else { return }
        let packets = body(&state.recorder)
        state.ring?.append(packets)
        capturing = state
        state.file?.write(packets, of: captureKey, label: captureLabel, serverPort: server.port)
    }

    func captureNote(_ text: String) {
        guard capturing != nil else { return }
        capturing!.recorder.note(text)
    }

    /// The handshake is done: the ring keeps what it has so far and bounds what follows.
    func captureHandshakeDone() { capturing?.ring?.stopPinning() }

    func captureControl(_ traffic: ControlTraffic) {
        guard capturing != nil else { return }
        let now = Self.captureTime()
        switch traffic {
        case .opened(let local, let remote):
            capture { $0.controlOpened(client: local, server: remote, at: now) }
        case .sent(let bytes):
            capture { $0.controlData(fromClient: true, bytes, at: now) }
        case .received(let bytes, let meaning):
            capture { $0.controlData(fromClient: false, bytes, at: now, comment: meaning) }
        case .ended(let reason):
            // Closed by SocksDeck when the association had already ended (the user, a failure),
            // by the server otherwise.
            let byUs: Bool
            let why: String
            switch state {
            case .closed(let r):
                byUs = true
                why = "closed by SocksDeck: \(r)"
            case .failed(let failure):
                byUs = true
                why = "closed by SocksDeck after a failure: \(failure)"
            default:
                byUs = false
                why = reason
            }
            capture { $0.controlClosed(byClient: byUs, at: now, comment: why) }
        }
    }

    /// The data socket's source address as a capture writes it (see `CaptureEndpoints`).
    private func captureLocal(facing peer: IPEndpoint) -> IPEndpoint {
        let bound = dataSocketLocal ?? IPEndpoint(.unspecified(peer.family), port: 0)
        return CaptureEndpoints.local(bound: bound, likely: controlLocal, facing: peer)
    }

    func captureSent(datagram: ByteBuffer, headerLength: Int, to target: SOCKSAddress, relay: IPEndpoint) {
        guard capturing != nil else { return }
        let bytes = Array(datagram.readableBytesView)
        let wireLocal = captureLocal(facing: relay)
        let remote = CaptureEndpoints.endpoint(target, family: relay.family)
        let inner = UDPFlow(from: captureLocal(facing: remote), to: remote, payload: Array(bytes[headerLength...]))
        let name: String? =
            if case .domain = target { "to \(target) (a name: written as \(remote.address))" } else { nil }
        let time = Self.captureTime()
        capture {
            $0.datagram(
                wire: UDPFlow(from: wireLocal, to: relay, payload: bytes),
                inner: inner,
                at: time,
                comment: name
            )
        }
    }

    /// A datagram that reached the data socket: delivered (with the header's sender and where
    /// its payload starts) or dropped (with why, which its packet's comment says).
    func captureReceived(
        datagram: ByteBuffer,
        from source: IPEndpoint,
        delivered: (sender: SOCKSAddress, payloadOffset: Int)?,
        dropped: String?
    ) {
        guard capturing != nil else { return }
        let bytes = Array(datagram.readableBytesView)
        let source = IPEndpoint(source.address.unmapped, port: source.port)
        let wire = UDPFlow(from: source, to: captureLocal(facing: source), payload: bytes)
        var inner: UDPFlow?
        if let delivered {
            let remote = CaptureEndpoints.endpoint(delivered.sender, family: source.family)
            inner = UDPFlow(
                from: remote,
                to: captureLocal(facing: remote),
                payload: Array(bytes[delivered.payloadOffset...])
            )
        }
        let comment = dropped.map { "dropped by SocksDeck: \($0)" }
        let time = Self.captureTime()
        capture { $0.datagram(wire: wire, inner: inner, at: time, comment: comment) }
    }

    /// The capture so far, as a complete pcapng file (ring mode).
    func captureFileBytes() -> (bytes: [UInt8], packets: Int, dropped: Int)? {
        guard let state = capturing, let ring = state.ring else { return nil }
        var writer = PcapNGWriter()
        let packets = ring.packets
        let bytes = writer.encode(packets, of: captureKey, label: captureLabel, serverPort: server.port)
        return (bytes, packets.count, ring.dropped)
    }
}
