import NIOCore
import Socks5

/// A feature that follows one association's datagrams and lifecycle (a health probe, an echo
/// load, a check's exchanges, a forward's flow), so that the association needs no slot for it by
/// name. Called on the engine's loop, in the order the subscribers subscribed.
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
    /// Every byte on the association's sockets, whole, for a subscriber that `observesWire`.
    func association(_ id: AssociationID, wire: AssociationWire)
    var observesWire: Bool { get }
    /// Adds what this feature shows of the association to its snapshot.
    func contribute(to snapshot: inout AssociationSnapshot)
    /// Whether it stays subscribed once the association has ended, so that what it measured
    /// stays readable (it must then hold nothing that keeps the association alive).
    var outlivesAssociation: Bool { get }
}

extension AssociationSubscriber {
    func associationReadEnded(_ id: AssociationID) {}
    func association(_ id: AssociationID, wire: AssociationWire) {}
    var observesWire: Bool { false }
    func contribute(to snapshot: inout AssociationSnapshot) {}
    var outlivesAssociation: Bool { false }
}
