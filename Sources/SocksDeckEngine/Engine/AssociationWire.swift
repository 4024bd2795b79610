import NIOCore
import Socks5

/// What crossed an association's sockets, whole, for a subscriber that records the wire (the
/// capture). Features that need only the payloads follow `association(_:received:from:)`.
enum AssociationWire {
    case control(ControlTraffic)
    /// A datagram as written to the relay: the SOCKS header (`headerLength` bytes), then the payload.
    case datagramSent(ByteBuffer, headerLength: Int, to: SOCKSAddress, relay: IPEndpoint)
    /// A datagram that reached the data socket: delivered (the header's sender and where its
    /// payload starts) or dropped (with why).
    case datagramReceived(
        ByteBuffer,
        from: IPEndpoint,
        delivered: (sender: SOCKSAddress, payloadOffset: Int)?,
        dropped: String?
    )
}

/// What the control connection's handler saw.
enum ControlTraffic {
    case opened(local: IPEndpoint, remote: IPEndpoint)
    case sent([UInt8])
    /// Bytes read, and what they meant to the handshake when that is worth a comment.
    case received([UInt8], meaning: String?)
    /// The connection ended; `reason` is the handler's own words for a close by the server.
    case ended(reason: String)
}
