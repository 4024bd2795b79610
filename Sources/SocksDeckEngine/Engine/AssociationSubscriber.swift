import NIOCore
import Socks5

/// A feature that follows one association's datagrams and lifecycle (a forward's flow), so that
/// the association needs no slot for it by name. Called on the engine's loop, in the order the
/// subscribers subscribed.
protocol AssociationSubscriber: AnyObject {
    /// A datagram that came back through the relay, its header stripped: `payload` is a view of the
    /// receive buffer, valid only during the call. Always during a read of the data socket, which
    /// `associationReadEnded` closes.
    func association(_ id: AssociationID, received payload: ByteBufferView, from sender: SOCKSAddress)
    /// The association moved to `state` (associated, closed or failed; the handshake's steps are
    /// not reported).
    func association(_ id: AssociationID, settledAs state: ControlConnectionState)
    /// The data socket's read that brought the datagrams just delivered is over: what they made
    /// the subscriber write can go out in one flush.
    func associationReadEnded(_ id: AssociationID)
}
