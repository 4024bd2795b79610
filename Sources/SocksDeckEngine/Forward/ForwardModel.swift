import Foundation
import Socks5

/// A running forward's number in this engine, shown as `f1`, `f2`.
package struct ForwardID: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    package let value: Int
    package init(_ value: Int) { self.value = value }
    package static func < (a: Self, b: Self) -> Bool { a.value < b.value }
    package var description: String { "f\(value)" }
}

/// How a forward treats its flows.
package struct ForwardOptions: Sendable, Equatable {
    /// A flow with no datagram either way for this long is closed with its association.
    package var idleTimeout: Duration = .seconds(60)
    /// Local clients served at once; a datagram from one more is dropped (and logged) until one
    /// goes idle. Each flow holds a TCP connection to the proxy and a UDP socket.
    package var maximumFlows = 256
    /// After an association fails to open, the flow waits this long before the next attempt, then
    /// twice as long each time up to `maximumBackoff`; one that ends after it was associated
    /// (a restarted proxy) is reopened by the next datagram at once.
    package var initialBackoff: Duration = .seconds(1)
    package var maximumBackoff: Duration = .seconds(30)

    package init(idleTimeout: Duration = .seconds(60), maximumFlows: Int = 256) {
        self.idleTimeout = idleTimeout
        self.maximumFlows = maximumFlows
    }
}

/// Why a forward dropped a datagram rather than passing it on.
package enum ForwardDropReason: String, Sendable, Hashable, Codable, CaseIterable, CodingKeyRepresentable,
    CustomStringConvertible
{
    /// A reply through the association from an address other than the target.
    case notFromTarget = "not_from_target"
    /// The forward already serves its maximum number of local clients.
    case flowLimit = "flow_limit"
    /// Too large for one SOCKS5 datagram (payload and header over the UDP maximum).
    case tooLarge = "too_large"
    /// No association to send it through: the last one failed and the next attempt waits.
    case noAssociation = "no_association"
    /// More datagrams than the flow holds while its association opens.
    case queueFull = "queue_full"
    /// The local socket refused to send a reply back to the client.
    case clientUnreachable = "client_unreachable"

    package var description: String {
        switch self {
        case .notFromTarget: "a reply from an address other than the target"
        case .flowLimit: "the forward serves its maximum number of local clients"
        case .tooLarge: "too large for one SOCKS5 datagram"
        case .noAssociation: "no association to send it through (waiting before the next attempt)"
        case .queueFull: "too many datagrams waiting while the association opens"
        case .clientUnreachable: "the reply could not be sent back to the local client"
        }
    }
}

/// One local client's flow: its association and what went each way.
package struct ForwardFlowSnapshot: Sendable, Equatable {
    /// The application's address (its source address and port).
    package var client: IPEndpoint
    /// The association that carries it now (or last did).
    package var association: AssociationID?
    /// Every association opened for it (more than one when the proxy closed one).
    package var associations: [AssociationID]
    /// Where it stands, in words: `opening`, `associated`, `waiting 4 s before reopening: …`, or
    /// for a closed flow why it closed.
    package var state: String
    package var isOpen: Bool
    package var opened: Date
    package var closed: Date?
    package var lastActivity: Date
    package var datagramsFromClient = 0
    package var bytesFromClient = 0
    /// Handed to the association (the rest were dropped).
    package var datagramsForwarded = 0
    package var datagramsFromTarget = 0
    package var bytesFromTarget = 0
    package var drops: [ForwardDropReason: Int] = [:]
    /// The application's recent datagrams with their first bytes (enough to decode a DNS answer),
    /// oldest first.
    package var recent: [ForwardedDatagram]

    package var dropped: Int { drops.values.reduce(0, +) }
}

/// One datagram of a flow, as the application sent or received it (no SOCKS header).
package struct ForwardedDatagram: Sendable, Equatable {
    package enum Direction: String, Sendable, Codable {
        /// From the application towards the target.
        case request
        /// From the target back to the application.
        case reply
    }
    package var time: Date
    package var direction: Direction
    package var size: Int
    /// Up to `ForwardFlow.keptBytes` of it.
    package var bytes: [UInt8]
}

/// A forward: where it listens, where it sends, and its flows.
package struct ForwardSnapshot: Sendable, Equatable {
    package var id: ForwardID
    package var serverName: String
    package var spec: String
    package var local: IPEndpoint
    package var target: SOCKSAddress
    /// Open flows first, then the most recent closed ones (at most `Forward.closedFlowsKept`).
    package var flows: [ForwardFlowSnapshot]
    package var openFlows: Int
    package var flowsOpened: Int
    /// Datagrams dropped before any flow took them (the flow limit).
    package var drops: [ForwardDropReason: Int]
    package var isRunning: Bool
}

/// What happened to a forward, as it happens: for a JSON stream and for the log.
package struct ForwardEvent: Sendable, Equatable {
    package enum Kind: String, Sendable, Codable {
        case listening
        case flowOpened = "flow_opened"
        case flowClosed = "flow_closed"
        case associationLost = "association_lost"
        case error
        /// A flow's first drop of a kind, with its reason (later ones are counted only).
        case dropped
        case limitReached = "limit_reached"
        case stopped
    }
    package var time: Date
    package var forward: ForwardID
    package var kind: Kind
    package var client: IPEndpoint?
    package var association: AssociationID?
    package var message: String
    /// The flow as it ended (with `flowClosed`).
    package var flow: ForwardFlowSnapshot?
}
