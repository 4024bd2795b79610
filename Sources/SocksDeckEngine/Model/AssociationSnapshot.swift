import Foundation
import Socks5

/// Identifies an association for the life of the engine.
public struct AssociationID: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    public let value: Int
    public init(_ value: Int) { self.value = value }
    public static func < (a: Self, b: Self) -> Bool { a.value < b.value }
    public var description: String { "#\(value)" }
}

/// Datagram and byte counts of one association.
public struct DatagramCounters: Sendable, Equatable, Codable {
    public var datagramsSent = 0
    public var bytesSent = 0
    public var datagramsReceived = 0
    public var bytesReceived = 0
    /// Failed sends (the kernel refused: EMSGSIZE, ECONNREFUSED from an ICMP…).
    public var sendErrors = 0
    public var drops: [DatagramDropReason: Int] = [:]
    /// Replies shorter than the datagram last sent to their sender and made of its first bytes:
    /// an echo cut on the way (a relay with a small buffer: v2ray cuts at 2,038 bytes).
    public var truncatedReplies = 0
    /// The length such replies were cut to, the last time.
    public var truncatedTo: Int?

    public var droppedTotal: Int { drops.values.reduce(0, +) }

    public init() {}
}

/// One datagram in the recent-datagrams ring, for inspection.
public struct RecentDatagram: Sendable, Equatable {
    public enum Direction: String, Sendable, Codable { case sent, received, dropped }
    public var time: Date
    public var direction: Direction
    /// The target (sent) or the sender from the header (received); for a drop, the source.
    public var peer: String
    public var size: Int
    /// The first bytes of the payload (up to 64).
    public var firstBytes: [UInt8]
    /// Why it was dropped.
    public var dropReason: DatagramDropReason?
}

/// Health probe figures over the recent window.
public struct ProbeSummary: Sendable, Equatable, Codable {
    public var target: String
    /// False once the probe stopped: the figures are then its last.
    public var running = true
    public var sent = 0
    public var answered = 0
    /// Probes unanswered after the probe timeout, over the window.
    public var lost = 0
    public var rttP50Milliseconds: Double?
    public var rttP99Milliseconds: Double?
    public var lastReply: Date?
    /// Cumulative counts of every RTT measured, per upper bound in `rttBucketBounds` (seconds).
    public var rttBucketCounts: [Int] = []
    public var rttSumSeconds = 0.0
    public static let rttBucketBounds: [Double] = [
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
    ]
    public var lossRatio: Double { sent == 0 ? 0 : Double(lost) / Double(max(sent, 1)) }
}

/// Everything the engine knows about one association, as a plain value: what the UI and the
/// command line read. Never holds a password.
public struct AssociationSnapshot: Sendable, Equatable {
    public var id: AssociationID
    public var serverName: String
    public var serverAddress: String
    public var requestedFamily: AddressFamily
    public var state: ControlConnectionState
    /// Each state with the time it was entered.
    public var history: [(state: String, since: Date)]
    public var controlLocal: String?
    public var controlRemote: String?
    public var rendezvous: RendezvousAddress?
    public var dataSocketLocal: String?
    /// What the UDP ASSOCIATE request declared as DST.ADDR:DST.PORT.
    public var declared: SOCKSAddress? = nil
    public var counters: DatagramCounters
    public var opened: Date
    public var ended: Date?
    public var lastSent: Date?
    public var lastReceived: Date?
    /// Datagrams per second, sent and received: `perSecond()` for the rate, `history()` for a
    /// sparkline.
    public var sendRate: RateMeter
    public var receiveRate: RateMeter
    public var recent: [RecentDatagram]
    public var probe: ProbeSummary?

    public var age: TimeInterval { (ended ?? Date()).timeIntervalSince(opened) }
    public var idle: TimeInterval {
        let last = [lastSent, lastReceived].compactMap { $0 }.max() ?? opened
        return (ended ?? Date()).timeIntervalSince(last)
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.id == b.id && a.state == b.state && a.counters == b.counters && a.rendezvous == b.rendezvous
            && a.history.map(\.state) == b.history.map(\.state) && a.recent == b.recent && a.probe == b.probe
    }
}

/// A timestamped event: state changes, errors, drops.
public struct EngineEvent: Sendable, Equatable {
    public enum Level: String, Sendable, Codable { case info, warning, error }
    public var time: Date
    public var level: Level
    public var association: AssociationID?
    public var message: String
}
