/// Why a datagram that arrived on an association's data socket was not delivered.
public enum DatagramDropReason: String, CaseIterable, Sendable, Hashable, CustomStringConvertible {
    /// It did not come from the rendezvous address: a stranger must not be able to inject
    /// traffic into a session (RFC 1928 puts this rule on the relay; SocksDeck keeps it too).
    case notFromRelay = "not_from_relay"
    /// FRAG was not 0. SocksDeck does not reassemble, and RFC 1928 says such an implementation
    /// MUST drop every fragment.
    case fragmented = "fragmented"
    /// The UDP header could not be read: too short, unknown ATYP, an address longer than the
    /// datagram.
    case malformedHeader = "malformed_header"
    /// Larger than the receive buffer or the configured limit.
    case oversize = "oversize"
    /// The sender is a domain name or does not fit the caller's address buffer (C API only).
    case unusableSender = "unusable_sender"

    public var description: String {
        switch self {
        case .notFromRelay: "not from the relay"
        case .fragmented: "fragment (FRAG ≠ 0)"
        case .malformedHeader: "malformed header"
        case .oversize: "oversize"
        case .unusableSender: "unusable sender address"
        }
    }
}
