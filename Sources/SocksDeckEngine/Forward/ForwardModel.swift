import Foundation
import Socks5

/// A running forward's number in this engine, shown as `f1`, `f2`.
public struct ForwardID: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    public let value: Int
    public init(_ value: Int) { self.value = value }
    public static func < (a: Self, b: Self) -> Bool { a.value < b.value }
    public var description: String { "f\(value)" }
}

/// How a forward treats its flows.
public struct ForwardOptions: Sendable, Equatable {
    /// A flow with no datagram either way for this long is closed with its association.
    public var idleTimeout: Duration = .seconds(60)
    /// Local clients served at once; a datagram from one more is dropped (and logged) until one
    /// goes idle. Each flow holds a TCP connection to the proxy and a UDP socket.
    public var maximumFlows = 256
    /// After an association fails to open, the flow waits this long before the next attempt, then
    /// twice as long each time up to `maximumBackoff`; one that ends after it was associated
    /// (a restarted proxy) is reopened by the next datagram at once.
    public var initialBackoff: Duration = .seconds(1)
    public var maximumBackoff: Duration = .seconds(30)

    public init(idleTimeout: Duration = .seconds(60), maximumFlows: Int = 256) {
        self.idleTimeout = idleTimeout
        self.maximumFlows = maximumFlows
    }
}

/// Why a forward dropped a datagram rather than passing it on.
public enum ForwardDropReason: String, Sendable, Hashable, Codable, CaseIterable, CodingKeyRepresentable,
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

    public var description: String {
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
public struct ForwardFlowSnapshot: Sendable, Equatable {
    /// The application's address (its source address and port).
    public var client: IPEndpoint
    /// The association that carries it now (or last did).
    public var association: AssociationID?
    /// Every association opened for it (more than one when the proxy closed one).
    public var associations: [AssociationID]
    /// Where it stands, in words: `opening`, `associated`, `waiting 4 s before reopening: …`, or
    /// for a closed flow why it closed.
    public var state: String
    public var isOpen: Bool
    public var opened: Date
    public var closed: Date?
    public var lastActivity: Date
    public var datagramsFromClient = 0
    public var bytesFromClient = 0
    /// Handed to the association (the rest were dropped).
    public var datagramsForwarded = 0
    public var datagramsFromTarget = 0
    public var bytesFromTarget = 0
    public var drops: [ForwardDropReason: Int] = [:]
    /// The application's recent datagrams with their first bytes (enough to decode a DNS answer),
    /// oldest first.
    public var recent: [ForwardedDatagram]

    public var dropped: Int { drops.values.reduce(0, +) }
}

/// One datagram of a flow, as the application sent or received it (no SOCKS header).
public struct ForwardedDatagram: Sendable, Equatable {
    public enum Direction: String, Sendable, Codable {
        /// From the application towards the target.
        case request
        /// From the target back to the application.
        case reply
    }
    public var time: Date
    public var direction: Direction
    public var size: Int
    /// Up to `ForwardFlow.keptBytes` of it.
    public var bytes: [UInt8]
}

/// A forward: where it listens, where it sends, and its flows.
public struct ForwardSnapshot: Sendable, Equatable {
    public var id: ForwardID
    public var serverName: String
    public var spec: String
    public var local: IPEndpoint
    public var target: SOCKSAddress
    /// Open flows first, then the most recent closed ones (at most `Forward.closedFlowsKept`).
    public var flows: [ForwardFlowSnapshot]
    public var openFlows: Int
    public var flowsOpened: Int
    /// Datagrams dropped before any flow took them (the flow limit).
    public var drops: [ForwardDropReason: Int]
    public var isRunning: Bool
}

/// What happened to a forward, as it happens: for a JSON stream and for the log.
public struct ForwardEvent: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable {
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
    public var time: Date
    public var forward: ForwardID
    public var kind: Kind
    public var client: IPEndpoint?
    public var association: AssociationID?
    public var message: String
    /// The flow as it ended (with `flowClosed`).
    public var flow: ForwardFlowSnapshot?
}
