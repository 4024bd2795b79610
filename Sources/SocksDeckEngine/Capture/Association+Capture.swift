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
        let now = CaptureClock.now()
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

    /// The data socket as bound ([::]:port); its source address is inferred in the capture.
    private var captureDataSocket: IPEndpoint { dataSocketLocal ?? IPEndpoint(.unspecified(.ipv6), port: 0) }

    func captureSent(datagram: ByteBuffer, headerLength: Int, to target: SOCKSAddress, relay: IPEndpoint) {
        guard capturing != nil else { return }
        let bytes = Array(datagram.readableBytesView)
        let (socket, likely, time) = (captureDataSocket, controlLocal, CaptureClock.now())
        capture {
            $0.clientSent(
                bytes,
                headerLength: headerLength,
                to: target,
                relay: relay,
                dataSocket: socket,
                likely: likely,
                at: time
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
        let (socket, likely, time) = (captureDataSocket, controlLocal, CaptureClock.now())
        let comment = dropped.map { "dropped by SocksDeck: \($0)" }
        capture {
            $0.clientReceived(
                bytes,
                from: source,
                dataSocket: socket,
                likely: likely,
                delivered: delivered,
                at: time,
                comment: comment
            )
        }
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
