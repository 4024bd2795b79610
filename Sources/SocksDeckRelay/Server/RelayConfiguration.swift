import PcapNG
import Socks5
import UDPChecks

/// What `socksdeck serve` (and the demo) runs.
package struct RelayConfiguration: Sendable {
    package var listen: [IPEndpoint]
    /// When set, RFC 1929 username/password is required.
    package var credentials: Credentials?
    /// Answer UDP ASSOCIATE with REP 7, as a server without UDP does.
    package var udpEnabled: Bool
    /// An association with no datagram either way for this long is closed.
    package var idleTimeout: Duration
    /// The largest datagram relayed; larger ones are dropped and counted.
    package var maximumDatagram: Int
    /// Which client datagrams an association takes.
    package var sourceCheck: SourceCheck
    /// The relay as a NAT (RFC 4787 terms): how many outbound sockets an association uses
    /// (mapping), and which senders each lets back in (filtering). Endpoint independent for both
    /// by default: one socket per family, any sender, what `serve` always did.
    package var mapping: NATBehaviour
    package var filtering: NATBehaviour
    /// Where `serve --pcap` writes what the relay sees (nil: nothing is captured).
    package var capture: (any CaptureSink)?
    /// A connection that has not sent its greeting, login (when required) and request within this
    /// long is closed, however far it got: Dante's `timeout.negotiate`, and its default.
    package var negotiationTimeout: Duration
    /// What one client address may hold at once.
    package var clientLimits: ClientLimits
    /// The relay as a distant one (`serve --latency`, for machines without netem): every message
    /// it sends on a control connection and every datagram it relays, either way, leaves this much
    /// later, in order.
    package var latency: Duration
    /// The relay as one with a small buffer (v2ray cuts at 2,048 bytes): every datagram it relays,
    /// either way, is cut to this many payload bytes (nil: none is).
    package var cutDatagramsAt: Int?

    /// Bounds per client address (the control connection's source IP), so that one client cannot
    /// hold every descriptor of the relay; past a bound the relay refuses and counts.
    package struct ClientLimits: Sendable, Equatable {
        /// Connections accepted that have not yet sent their request; more are closed at once.
        package var negotiatingConnections: Int
        /// Associations open; a further UDP ASSOCIATE is answered with REP 2 (not allowed by ruleset).
        package var associations: Int

        package init(negotiatingConnections: Int = 64, associations: Int = 1024) {
            self.negotiatingConnections = negotiatingConnections
            self.associations = associations
        }
    }

    package init(
        listen: [IPEndpoint],
        credentials: Credentials? = nil,
        udpEnabled: Bool = true,
        idleTimeout: Duration = .seconds(300),
        maximumDatagram: Int = 65_535,
        sourceCheck: SourceCheck = .declared,
        mapping: NATBehaviour = .endpointIndependent,
        filtering: NATBehaviour = .endpointIndependent,
        capture: (any CaptureSink)? = nil,
        negotiationTimeout: Duration = .seconds(30),
        clientLimits: ClientLimits = ClientLimits(),
        latency: Duration = .zero,
        cutDatagramsAt: Int? = nil
    ) {
        self.latency = latency
        self.cutDatagramsAt = cutDatagramsAt
        self.negotiationTimeout = negotiationTimeout
        self.clientLimits = clientLimits
        self.capture = capture
        self.sourceCheck = sourceCheck
        self.mapping = mapping
        self.filtering = filtering
        self.listen = listen
        self.credentials = credentials
        self.udpEnabled = udpEnabled
        self.idleTimeout = idleTimeout
        self.maximumDatagram = maximumDatagram
    }
}

/// Something the relay did, for its log.
package struct RelayEvent: Sendable {
    package enum Kind: String, Sendable {
        case listening, accepted, authenticated, refused, associated, connected, closed, dropped, error, stopped
    }
    package var kind: Kind
    package var client: String?
    package var message: String

    package init(kind: Kind, client: String?, message: String) {
        self.kind = kind
        self.client = client
        self.message = message
    }
}

/// Which datagrams from the client side an association takes (RFC 1928: the relay "MUST drop any
/// datagrams arriving from any source IP address other than the one recorded for the particular
/// association", and may use the declared DST to record it).
package enum SourceCheck: String, CaseIterable, Sendable {
    /// Strict, the default: the declared address and port where the request declared them, else
    /// the control connection's IP with the port of the first datagram.
    case declared
    /// Only the IP: the port of the first datagram is adopted, whatever port was declared. For
    /// clients that declare the target (or any other port) as DST.
    case address
    /// Any source; replies go to the latest. For testing clients, never for a shared relay.
    case none
}
