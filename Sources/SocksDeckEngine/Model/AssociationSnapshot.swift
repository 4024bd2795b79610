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
    /// Bytes the server sent on the control connection after its reply, which RFC 1928 gives
    /// no meaning (a heartbeat, a banner, a second reply): counted, the first ones logged in hex.
    public var controlBytesAfterReply = 0

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
public struct ProbeSummary: Sendable, Equatable {
    public var target: String
    /// False once the probe stopped: the figures are then its last.
    public var running = true
    public var sent = 0
    public var answered = 0
    /// Probes unanswered after the probe timeout, over the window.
    public var lost = 0
    public var rttP50: Duration?
    public var rttP99: Duration?
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
///
/// A value with its fields in one shared, copy-on-write box: a screen of a thousand associations
/// copies every snapshot several times a frame (out of the engine, into the sorted rows), and a
/// struct of twenty reference-counted fields cost twenty atomic retains per copy, the largest
/// share of the UI's CPU. Now a copy is one retain; a change copies the box first if it is shared.
public struct AssociationSnapshot: Sendable, Equatable {
    /// The fields, a plain struct: the box holds one, and copying the box copies it.
    private struct Fields {
        var id: AssociationID
        var serverName: String
        var serverAddress: String
        var requestedFamily: AddressFamily
        var state: ControlConnectionState
        var history: [(state: String, since: Date)]
        var controlLocal: String?
        var controlRemote: String?
        var rendezvous: RendezvousAddress?
        var dataSocketLocal: String?
        var declared: SOCKSAddress?
        var counters: DatagramCounters
        var opened: Date
        var ended: Date?
        var lastSent: Date?
        var lastReceived: Date?
        var sendRate: RateMeter
        var receiveRate: RateMeter
        var recent: [RecentDatagram]
        var probe: ProbeSummary?
        var revision: UInt64
        var closedBy: AssociationCloser?
    }

    /// @unchecked: a copy-on-write box, written only through `mutableStorage()` by the one value
    /// that holds it alone (isKnownUniquelyReferenced), so no two threads ever share a write.
    private final class Storage: @unchecked Sendable {
        var fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    /// Shared between copies; only ever changed when this value holds the one reference.
    private var storage: Storage

    private mutating func mutableStorage() -> Storage {
        if !isKnownUniquelyReferenced(&storage) { storage = Storage(storage.fields) }
        return storage
    }

    init(
        id: AssociationID,
        serverName: String,
        serverAddress: String,
        requestedFamily: AddressFamily,
        state: ControlConnectionState,
        history: [(state: String, since: Date)],
        controlLocal: String?,
        controlRemote: String?,
        rendezvous: RendezvousAddress?,
        dataSocketLocal: String?,
        declared: SOCKSAddress? = nil,
        counters: DatagramCounters,
        opened: Date,
        ended: Date?,
        lastSent: Date?,
        lastReceived: Date?,
        sendRate: RateMeter,
        receiveRate: RateMeter,
        recent: [RecentDatagram],
        probe: ProbeSummary?,
        revision: UInt64 = 0,
        closedBy: AssociationCloser? = nil
    ) {
        storage = Storage(
            Fields(
                id: id,
                serverName: serverName,
                serverAddress: serverAddress,
                requestedFamily: requestedFamily,
                state: state,
                history: history,
                controlLocal: controlLocal,
                controlRemote: controlRemote,
                rendezvous: rendezvous,
                dataSocketLocal: dataSocketLocal,
                declared: declared,
                counters: counters,
                opened: opened,
                ended: ended,
                lastSent: lastSent,
                lastReceived: lastReceived,
                sendRate: sendRate,
                receiveRate: receiveRate,
                recent: recent,
                probe: probe,
                revision: revision,
                closedBy: closedBy
            )
        )
    }

    /// Who closed it, once it is closed (nil while it lives, and when it failed).
    public var closedBy: AssociationCloser? {
        get { storage.fields.closedBy }
        set { mutableStorage().fields.closedBy = newValue }
    }

    public var id: AssociationID {
        get { storage.fields.id }
        set { mutableStorage().fields.id = newValue }
    }
    public var serverName: String {
        get { storage.fields.serverName }
        set { mutableStorage().fields.serverName = newValue }
    }
    public var serverAddress: String {
        get { storage.fields.serverAddress }
        set { mutableStorage().fields.serverAddress = newValue }
    }
    public var requestedFamily: AddressFamily {
        get { storage.fields.requestedFamily }
        set { mutableStorage().fields.requestedFamily = newValue }
    }
    public var state: ControlConnectionState {
        get { storage.fields.state }
        set { mutableStorage().fields.state = newValue }
    }
    /// Each state with the time it was entered.
    public var history: [(state: String, since: Date)] {
        get { storage.fields.history }
        set { mutableStorage().fields.history = newValue }
    }
    public var controlLocal: String? {
        get { storage.fields.controlLocal }
        set { mutableStorage().fields.controlLocal = newValue }
    }
    public var controlRemote: String? {
        get { storage.fields.controlRemote }
        set { mutableStorage().fields.controlRemote = newValue }
    }
    public var rendezvous: RendezvousAddress? {
        get { storage.fields.rendezvous }
        set { mutableStorage().fields.rendezvous = newValue }
    }
    public var dataSocketLocal: String? {
        get { storage.fields.dataSocketLocal }
        set { mutableStorage().fields.dataSocketLocal = newValue }
    }
    /// What the UDP ASSOCIATE request declared as DST.ADDR:DST.PORT.
    public var declared: SOCKSAddress? {
        get { storage.fields.declared }
        set { mutableStorage().fields.declared = newValue }
    }
    public var counters: DatagramCounters {
        get { storage.fields.counters }
        set { mutableStorage().fields.counters = newValue }
    }
    public var opened: Date {
        get { storage.fields.opened }
        set { mutableStorage().fields.opened = newValue }
    }
    public var ended: Date? {
        get { storage.fields.ended }
        set { mutableStorage().fields.ended = newValue }
    }
    public var lastSent: Date? {
        get { storage.fields.lastSent }
        set { mutableStorage().fields.lastSent = newValue }
    }
    public var lastReceived: Date? {
        get { storage.fields.lastReceived }
        set { mutableStorage().fields.lastReceived = newValue }
    }
    /// Datagrams per second, sent and received: `perSecond()` for the rate, `history()` for a
    /// sparkline.
    public var sendRate: RateMeter {
        get { storage.fields.sendRate }
        set { mutableStorage().fields.sendRate = newValue }
    }
    public var receiveRate: RateMeter {
        get { storage.fields.receiveRate }
        set { mutableStorage().fields.receiveRate = newValue }
    }
    public var recent: [RecentDatagram] {
        get { storage.fields.recent }
        set { mutableStorage().fields.recent = newValue }
    }
    public var probe: ProbeSummary? {
        get { storage.fields.probe }
        set { mutableStorage().fields.probe = newValue }
    }
    /// Counts the engine's changes to this association: two of its snapshots with the same
    /// revision (and the same `recent`) show the same, which is what a screen needs to know to
    /// skip drawing a frame.
    public var revision: UInt64 {
        get { storage.fields.revision }
        set { mutableStorage().fields.revision = newValue }
    }

    public var age: TimeInterval { (ended ?? Date()).timeIntervalSince(opened) }
    public var idle: TimeInterval {
        let last = [lastSent, lastReceived].compactMap { $0 }.max() ?? opened
        return (ended ?? Date()).timeIntervalSince(last)
    }

    public static func == (a: Self, b: Self) -> Bool {
        if a.storage === b.storage { return true }
        return a.id == b.id && a.state == b.state && a.counters == b.counters && a.rendezvous == b.rendezvous
            && a.history.count == b.history.count && zip(a.history, b.history).allSatisfy { $0.state == $1.state }
            && a.recent == b.recent && a.probe == b.probe
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
