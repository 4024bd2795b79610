import NIOCore
import PcapNG
import Socks5

extension UDPRelaySession {
    /// A client's datagram as it reached the client-facing socket (header included).
    func captureWire(_ datagram: ByteBuffer, from source: IPEndpoint, comment: String?) {
        guard let capture, let clientFacing else { return }
        let bytes = Array(datagram.readableBytesView)
        let to = CaptureEndpoints.local(bound: clientFacing, likely: nil, facing: source)
        capture.record {
            $0.datagram(wire: UDPFlow(from: source, to: to, payload: bytes), inner: nil, at: $1, comment: comment)
        }
    }

    /// A payload leaving an outbound socket for its target.
    func captureInner(_ payload: ByteBuffer, from channel: Channel, to target: IPEndpoint) {
        guard let capture else { return }
        let bound = IPEndpoint(channel.localAddress) ?? IPEndpoint(.unspecified(target.family), port: 0)
        let from = CaptureEndpoints.local(bound: bound, likely: clientFacing, facing: target)
        let bytes = Array(payload.readableBytesView)
        capture.record { $0.datagram(wire: nil, inner: UDPFlow(from: from, to: target, payload: bytes), at: $1) }
    }

    /// A target's datagram on an outbound socket and, when it was relayed, the datagram to the client.
    func captureFromTarget(
        _ payload: ByteBuffer,
        sender: IPEndpoint,
        on key: OutboundKey,
        relayed: ByteBuffer?,
        comment: String?
    ) {
        guard let capture else { return }
        let outbound =
            outboundReady[key].flatMap { IPEndpoint($0.localAddress) }
            ?? IPEndpoint(.unspecified(sender.family), port: 0)
        let local = CaptureEndpoints.local(bound: outbound, likely: clientFacing, facing: sender)
        let inner = UDPFlow(from: sender, to: local, payload: Array(payload.readableBytesView))
        var wire: UDPFlow?
        if let relayed, let clientFacing, let client = clientAddress.flatMap({ IPEndpoint($0) }) {
            let from = CaptureEndpoints.local(bound: clientFacing, likely: nil, facing: client)
            wire = UDPFlow(from: from, to: client, payload: Array(relayed.readableBytesView))
        }
        // The inner packet first: the reply reached the relay before it was relayed.
        capture.record { recorder, time in
            var packets = recorder.datagram(wire: nil, inner: inner, at: time, comment: comment)
            if let wire { packets += recorder.datagram(wire: wire, inner: nil, at: time) }
            return packets
        }
    }
}
