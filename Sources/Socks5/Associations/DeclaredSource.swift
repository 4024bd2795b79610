/// What a UDP ASSOCIATE request declares as DST.ADDR:DST.PORT: RFC 1928's "address and port the
/// client will send from", which servers use to filter, and some to address their replies.
///
/// Measured: Dante drops every datagram when the declaration names another port; hpsockd sends
/// nothing back with the all-zero declaration and relays once the data socket's port is declared;
/// serve locks to a declared port. Declaring the real port with the address left zero works with
/// all of them, which is why it is the default wherever the data socket exists before the request.
public enum DeclaredSource: String, CaseIterable, Sendable, Hashable, CustomStringConvertible {
    /// 0.0.0.0:0 or [::]:0: "not known". What the C API declares (it has no data socket).
    case zero
    /// The unspecified address with the data socket's real port.
    case port
    /// The address the server sees the client at (the control connection's local address, in
    /// the requested family) with the data socket's port.
    case address

    public static let `default`: DeclaredSource = .port

    public var description: String { rawValue }

    /// The declaration for a request asking for `family`, from a data socket bound to
    /// `dataSocketPort`, over a control connection whose local end is `controlLocal`. Without a
    /// port (no data socket yet) every policy declares all zeros.
    public func declaration(
        family: AddressFamily,
        dataSocketPort: UInt16?,
        controlLocal: IPAddress? = nil
    ) -> SOCKSAddress {
        guard let port = dataSocketPort, self != .zero else { return .unspecified(family) }
        var address = IPAddress.unspecified(family)
        if self == .address, let local = controlLocal {
            let local = local.unmapped
            if local.family == family {
                address = local
            } else if local.isLoopback {
                address = family == .ipv4 ? .v4(.loopback) : .v6(.loopback)
            }
        }
        return .ip(IPEndpoint(address, port: port))
    }
}
