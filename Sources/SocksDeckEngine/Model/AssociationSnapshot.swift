import Foundation
import Socks5

/// Identifies an association for the life of the engine.
package struct AssociationID: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    package let value: Int
    package init(_ value: Int) { self.value = value }
    package static func < (a: Self, b: Self) -> Bool { a.value < b.value }
    package var description: String { "#\(value)" }
}

/// Datagram and byte counts of one association.
package struct DatagramCounters: Sendable, Equatable, Codable {
    package var datagramsSent = 0
    package var bytesSent = 0
    package var datagramsReceived = 0
    package var bytesReceived = 0
    /// Failed sends (the kernel refused: EMSGSIZE, ECONNREFUSED from an ICMP…).
    package var sendErrors = 0
    package var drops: [DatagramDropReason: Int] = [:]
    /// Replies shorter than the datagram last sent to their sender and made of its first bytes:
    /// an echo cut on the way (a relay with a small buffer: v2ray cuts at 2,038 bytes).
    package var truncatedReplies = 0
    /// The length such replies were cut to, the last time.
    package var truncatedTo: Int?
    /// Bytes the server sent on the control connection after its reply, which RFC 1928 gives
    /// no meaning (a heartbeat, a banner, a second reply): counted, the first ones logged in hex.
    package var controlBytesAfterReply = 0

    package var droppedTotal: Int { drops.values.reduce(0, +) }

    package init() {}
}

/// One datagram in the recent-datagrams ring, for inspection.
package struct RecentDatagram: Sendable, Equatable {
    package enum Direction: String, Sendable, Codable { case sent, received, dropped }
    package var time: Date
    package var direction: Direction
    /// The target (sent) or the sender from the header (received); for a drop, the source.
    package var peer: String
    package var size: Int
    /// The first bytes of the payload (up to 64).
    package var firstBytes: [UInt8]
    /// Why it was dropped.
    package var dropReason: DatagramDropReason?
}

/// Health probe figures over the recent window.
package struct ProbeSummary: Sendable, Equatable {
    package var target: String
    /// False once the probe stopped: the figures are then its last.
    package var running = true
    package var sent = 0
    package var answered = 0
    /// Probes unanswered after the probe timeout, over the window.
    package var lost = 0
    package var rttP50: Duration?
    package var rttP99: Duration?
    /// How often the probe sends.
    package var interval: Duration = .seconds(1)
    package var lastReply: Date?
    /// Cumulative counts of every RTT measured, per upper bound in `rttBucketBounds` (seconds).
    package var rttBucketCounts: [Int] = []
    package var rttSumSeconds = 0.0
    package static let rttBucketBounds: [Double] = [
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
    ]
    package var lossRatio: Double { sent == 0 ? 0 : Double(lost) / Double(max(sent, 1)) }

    /// A running probe has gone silent when no answer came for two of its intervals (half a second
    /// at least, so that a fast probe over a slow path does not flicker): the association still
    /// looks up, but its last RTT is old news. Every view that marks it asks here.
    package func isSilent(at now: Date) -> Bool {
        guard let lastReply else { return false }
        return now.timeIntervalSince(lastReply) > max(interval * 2, .milliseconds(500)) / .seconds(1)
    }
}

/// Everything the engine knows about one association, as a plain value: what the UI and the
/// command line read. Never holds a password.
///
/// A value with its fields in one shared, copy-on-write box: a screen of a thousand associations
/// copies every snapshot several times a frame (out of the engine, into the sorted rows), and a
/// struct of twenty reference-counted fields cost twenty atomic retains per copy, the largest
/// share of the UI's CPU. Now a copy is one retain; a change copies the box first if it is shared.
package struct AssociationSnapshot: Sendable, Equatable {
    /// The fields, a plain struct: the box holds one, and copying the box copies it.
    private struct Fields {
        var id: AssociationID
        var serverName: String
        var serverAddress: String
        var requestedFamily: AddressFamily
        var state: ControlConnectionState
        var history: [(state: ControlConnectionState, since: Date)]
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
        history: [(state: ControlConnectionState, since: Date)],
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
    package var closedBy: AssociationCloser? {
        get { storage.fields.closedBy }
        set { mutableStorage().fields.closedBy = newValue }
    }

    package var id: AssociationID {
        get { storage.fields.id }
        set { mutableStorage().fields.id = newValue }
    }
    package var serverName: String {
        get { storage.fields.serverName }
        set { mutableStorage().fields.serverName = newValue }
    }
    package var serverAddress: String {
        get { storage.fields.serverAddress }
        set { mutableStorage().fields.serverAddress = newValue }
    }
    package var requestedFamily: AddressFamily {
        get { storage.fields.requestedFamily }
        set { mutableStorage().fields.requestedFamily = newValue }
    }
    package var state: ControlConnectionState {
        get { storage.fields.state }
        set { mutableStorage().fields.state = newValue }
    }
    /// Each state with the time it was entered.
    package var history: [(state: ControlConnectionState, since: Date)] {
        get { storage.fields.history }
        set { mutableStorage().fields.history = newValue }
    }
    package var controlLocal: String? {
        get { storage.fields.controlLocal }
        set { mutableStorage().fields.controlLocal = newValue }
    }
    package var controlRemote: String? {
        get { storage.fields.controlRemote }
        set { mutableStorage().fields.controlRemote = newValue }
    }
    package var rendezvous: RendezvousAddress? {
        get { storage.fields.rendezvous }
        set { mutableStorage().fields.rendezvous = newValue }
    }
    package var dataSocketLocal: String? {
        get { storage.fields.dataSocketLocal }
        set { mutableStorage().fields.dataSocketLocal = newValue }
    }
    /// What the UDP ASSOCIATE request declared as DST.ADDR:DST.PORT.
    package var declared: SOCKSAddress? {
        get { storage.fields.declared }
        set { mutableStorage().fields.declared = newValue }
    }
    package var counters: DatagramCounters {
        get { storage.fields.counters }
        set { mutableStorage().fields.counters = newValue }
    }
    package var opened: Date {
        get { storage.fields.opened }
        set { mutableStorage().fields.opened = newValue }
    }
    package var ended: Date? {
        get { storage.fields.ended }
        set { mutableStorage().fields.ended = newValue }
    }
    package var lastSent: Date? {
        get { storage.fields.lastSent }
        set { mutableStorage().fields.lastSent = newValue }
    }
    package var lastReceived: Date? {
        get { storage.fields.lastReceived }
        set { mutableStorage().fields.lastReceived = newValue }
    }
    /// Datagrams per second, sent and received: `perSecond()` for the rate, `history()` for a
    /// sparkline.
    package var sendRate: RateMeter {
        get { storage.fields.sendRate }
        set { mutableStorage().fields.sendRate = newValue }
    }
    package var receiveRate: RateMeter {
        get { storage.fields.receiveRate }
        set { mutableStorage().fields.receiveRate = newValue }
    }
    package var recent: [RecentDatagram] {
        get { storage.fields.recent }
        set { mutableStorage().fields.recent = newValue }
    }
    package var probe: ProbeSummary? {
        get { storage.fields.probe }
        set { mutableStorage().fields.probe = newValue }
    }
    /// Counts the engine's changes to this association: two of its snapshots with the same
    /// revision (and the same `recent`) show the same, which is what a screen needs to know to
    /// skip drawing a frame.
    package var revision: UInt64 {
        get { storage.fields.revision }
        set { mutableStorage().fields.revision = newValue }
    }

    package var age: TimeInterval { (ended ?? Date()).timeIntervalSince(opened) }
    package var idle: TimeInterval {
        let last = [lastSent, lastReceived].compactMap { $0 }.max() ?? opened
        return (ended ?? Date()).timeIntervalSince(last)
    }

    package static func == (a: Self, b: Self) -> Bool {
        if a.storage === b.storage { return true }
        return a.id == b.id && a.state == b.state && a.counters == b.counters && a.rendezvous == b.rendezvous
            && a.history.count == b.history.count && zip(a.history, b.history).allSatisfy { $0.state == $1.state }
            && a.recent == b.recent && a.probe == b.probe
    }
}

/// A timestamped event: state changes, errors, drops.
package struct EngineEvent: Sendable, Equatable {
    package enum Level: String, Sendable, Codable { case info, warning, error }
    package var time: Date
    package var level: Level
    package var association: AssociationID?
    package var message: String
}
