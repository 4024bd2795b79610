/// The rendezvous address of a UDP association: where datagrams for the relay go. It holds what
/// the server sent, the address used, and why they differ, in one value with one wording, so
/// that the C API, the Swift API, the engine, the probe, the CLI and the TUI say the same thing.
public struct RendezvousAddress: Hashable, Sendable, CustomStringConvertible {
    /// Why the address used is not BND as received.
    public enum Substitution: Hashable, Sendable {
        /// BND was a concrete address: used as sent.
        case none
        /// BND was unspecified: the address of the server the control connection reached, which
        /// is of BND's family.
        case serverAddress
        /// BND was unspecified IPv4 and the server was reached at an IPv4-mapped IPv6 address:
        /// the IPv4 address inside it.
        case unmappedServerAddress
        /// BND was unspecified and the server was reached over the loopback address of the other
        /// family: the loopback address of BND's family (127.0.0.1 for ::1, ::1 for 127.x.y.z).
        case loopbackOfBoundFamily
        /// BND was unspecified and the server was reached over the other family: an address of
        /// BND's family that the server's host name resolved to.
        case resolvedServerAddress
    }

    /// BND.ADDR:BND.PORT exactly as the server sent it.
    public var asReceived: SOCKSAddress
    /// The address datagrams are sent to.
    public var asUsed: IPEndpoint
    public var substitution: Substitution
    /// The server's address the control connection reached (what "unspecified" stands for).
    public var server: IPEndpoint

    /// True when BND.ADDR was 0.0.0.0 or :: and was replaced.
    public var replacedUnspecified: Bool { substitution != .none }

    /// The family of BND as the server sent it (nil for a domain name).
    public var receivedFamily: AddressFamily? { asReceived.endpoint?.family }

    /// "127.0.0.1:5000", or with the substitution said in words.
    public var description: String {
        guard replacedUnspecified else { return asUsed.description }
        return "\(asUsed) (the server sent BND \(asReceived): \(substitutionReason))"
    }

    /// Why `asUsed` is not `asReceived`, in words; empty when it is.
    public var substitutionReason: String {
        let family = receivedFamily.map { "\($0)" } ?? "?"
        switch substitution {
        case .none: return ""
        case .serverAddress: return "unspecified, so the server's address \(server.address)"
        case .unmappedServerAddress:
            return "unspecified \(family), so the IPv4 form of the server's address \(server.address)"
        case .loopbackOfBoundFamily:
            return "unspecified \(family) over an \(server.family) control connection to \(server.address), "
                + "so the \(family) loopback address"
        case .resolvedServerAddress:
            return "unspecified \(family) over an \(server.family) control connection to \(server.address), "
                + "so an \(family) address of the server's host name"
        }
    }

    /// Applies the "unspecified means the server's address" practice, keeping BND's family: a
    /// relay that answers 0.0.0.0 listens on IPv4 only, whatever family the control connection
    /// used (measured: asyncio-socks-server reached at [::1] answers BND 0.0.0.0:P and nothing
    /// listens on [::1]:P). `serverAddresses` are other addresses of the server's host name, for
    /// a server named by host name. A domain-name BND cannot be used as a socket address
    /// (S5_EBNDDOMAIN); an unspecified BND with no known server address of its family is
    /// S5_EBNDFAMILY, with what was tried.
    public init(
        reply bound: SOCKSAddress,
        server: IPEndpoint,
        serverAddresses: [IPAddress] = [],
        command: Command = .udpAssociate
    ) throws(SOCKS5Error) {
        asReceived = bound
        self.server = server
        guard case .ip(let e) = bound else {
            throw SOCKS5Error(code: .domainBoundAddress, command: command, detail: "BND \(bound)")
        }
        (asUsed, substitution) = try Self.usable(e, server: server, serverAddresses: serverAddresses, command: command)
    }

    /// The one rule for an IP BND, for UDP ASSOCIATE and for BIND alike.
    public static func usable(
        _ bound: IPEndpoint,
        server: IPEndpoint,
        serverAddresses: [IPAddress] = [],
        command: Command = .udpAssociate
    ) throws(SOCKS5Error) -> (IPEndpoint, Substitution) {
        guard bound.address.isUnspecified else { return (bound, .none) }
        let family = bound.family
        if server.family == family { return (IPEndpoint(server.address, port: bound.port), .serverAddress) }
        if family == .ipv4, case .v6(let a) = server.address, let v4 = a.mappedIPv4 {
            return (IPEndpoint(.v4(v4), port: bound.port), .unmappedServerAddress)
        }
        if server.address.isLoopback {
            let loopback: IPAddress = family == .ipv4 ? .v4(.loopback) : .v6(.loopback)
            return (IPEndpoint(loopback, port: bound.port), .loopbackOfBoundFamily)
        }
        if let other = serverAddresses.first(where: { $0.family == family }) {
            return (IPEndpoint(other, port: bound.port), .resolvedServerAddress)
        }
        let known = serverAddresses.map(\.description).joined(separator: ", ")
        throw SOCKS5Error(
            code: .boundAddressFamily,
            command: command,
            detail: "BND \(bound) is unspecified \(family), "
                + "but the server was reached at \(server.address) (\(server.family))"
                + (serverAddresses.isEmpty
                    ? " and no \(family) address of it is known"
                    : " and its name has no \(family) address (\(known))")
        )
    }
}
