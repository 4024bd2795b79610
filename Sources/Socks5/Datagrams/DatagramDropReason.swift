/// Why a datagram was not delivered: at a client's data socket (the first five) or at a relay
/// (the rest). One enum for both sides, so that counters, logs, metrics and captures name a drop
/// the same way wherever it happened; the raw value is the name scripts and metrics see.
public enum DatagramDropReason: String, Error, CaseIterable, Sendable, Hashable, Codable, CodingKeyRepresentable,
    CustomStringConvertible
{
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

    // The relay's side (`socksdeck serve`).
    /// From an address other than the client's (RFC 1928: the relay MUST drop it).
    case foreignSource = "foreign_source"
    /// From the client's address but not the port its request declared.
    case undeclaredSourcePort = "undeclared_source_port"
    /// From the client's address but not the port its first datagram came from.
    case foreignSourcePort = "foreign_source_port"
    /// A target's reply before the client has sent anything: nowhere to send it.
    case noClientYet = "no_client_yet"
    /// Refused by the relay's NAT filtering (`serve --filtering`).
    case filtered = "filtered"
    /// For a domain name that does not resolve.
    case unresolvable = "unresolvable"

    /// The reasons a client counts, in the order metrics list them.
    public static let clientSide: [DatagramDropReason] = [
        .notFromRelay, .fragmented, .malformedHeader, .oversize, .unusableSender,
    ]

    public var description: String {
        switch self {
        case .notFromRelay: "not from the relay"
        case .fragmented: "fragment (FRAG ≠ 0)"
        case .malformedHeader: "malformed header"
        case .oversize: "oversize"
        case .unusableSender: "unusable sender address"
        case .foreignSource: "from a source other than the client"
        case .undeclaredSourcePort: "from a port the client did not declare"
        case .foreignSourcePort: "from a port other than the client's first"
        case .noClientYet: "a reply before the client sent anything"
        case .filtered: "filtered (the relay has not sent there)"
        case .unresolvable: "for a name that does not resolve"
        }
    }
}
