import Foundation
import NIOCore
import Socks5

#if canImport(Glibc)
import Glibc
#endif

/// A periodic probe through one association to an echo target: each probe datagram carries a
/// magic prefix, the association and a sequence number; its echo gives the round-trip time.
/// It subscribes to its association and outlives it: once stopped, by the user or by the end of
/// the association, its figures stay in the association's snapshot. Confined to the engine's
/// event loop, like its association.
final class HealthProbe: AssociationSubscriber {
    static let magic: [UInt8] = Array("SDPROBE1".utf8)
    static let payloadLength = TaggedPayload.headerLength

    let target: IPEndpoint
    let interval: TimeAmount
    /// A probe not answered within this time counts as lost.
    let timeout: TimeAmount
    private let associationID: Int
    private var sequence: UInt64 = 0
    private var outstanding: [UInt64: NIODeadline] = [:]
    private var rtts = RingBuffer<Duration>(capacity: 128)
    private var sent = 0
    private var answered = 0
    private var lost = 0
    private var lastReply: Date?
    /// What sends a probe while it runs (nil when stopped), and which run this is: the clock
    /// may still hold an entry of an earlier run.
    private var sendProbe: ((UInt64) -> Void)?
    private var run: UInt64 = 0
    /// Every RTT ever measured, counted into fixed buckets (for a Prometheus histogram).
    private var bucketCounts = [Int](repeating: 0, count: ProbeSummary.rttBucketBounds.count)
    private var rttSum = 0.0

    init(target: IPEndpoint, interval: TimeAmount, associationID: Int) {
        self.target = target
        self.interval = interval
        self.timeout = max(interval * 3, .seconds(2))
        self.associationID = associationID
    }

    /// Starts sending; `send` sends the probe with that sequence number to the target through the
    /// association (its payload written by `writePayload`).
    func start(on clock: ProbeClock, send: @escaping (UInt64) -> Void) {
        sendProbe = send
        run &+= 1
        clock.start(self, run: run)
    }

    func stop() {
        sendProbe = nil
        run &+= 1
    }

    /// Sends one probe of run `run`; false when that run has ended (so the clock drops it).
    func fire(run: UInt64) -> Bool {
        guard run == self.run, let sendProbe else { return false }
        expire(now: .now())
        sequence += 1
        outstanding[sequence] = .now()
        sent += 1
        sendProbe(sequence)
        // A probe stopped by its own send (the association failed) stays stopped.
        return run == self.run && self.sendProbe != nil
    }

    /// The probe's payload (`payloadLength` bytes): the magic, the association, the sequence.
    func writePayload(_ seq: UInt64, into buffer: inout ByteBuffer) {
        TaggedPayload.write(
            magic: Self.magic,
            association: associationID,
            sequence: seq,
            length: Self.payloadLength,
            into: &buffer
        )
    }

    var outlivesAssociation: Bool { true }

    func association(_ id: AssociationID, settledAs state: ControlConnectionState) {
        if state.isFinal { stop() }
    }

    func contribute(to snapshot: inout AssociationSnapshot) { snapshot.probe = summary }

    /// Every datagram the association receives passes here; probe echoes are recognised by their
    /// prefix and association.
    func association(_ id: AssociationID, received payload: ByteBufferView, from sender: SOCKSAddress) {
        guard payload.count == Self.payloadLength,
            let seq = TaggedPayload.sequence(in: payload, magic: Self.magic, association: associationID),
            let start = outstanding.removeValue(forKey: seq)
        else { return }
        answered += 1
        lastReply = Date()
        let rtt = Duration(NIODeadline.now() - start)
        rtts.append(rtt)
        percentilesStale = true
        let seconds = rtt / .seconds(1)
        rttSum += seconds
        for (i, bound) in ProbeSummary.rttBucketBounds.enumerated() where seconds <= bound {
            bucketCounts[i] += 1
        }
    }

    private func expire(now: NIODeadline) {
        for (seq, start) in outstanding where now - start > timeout {
            outstanding.removeValue(forKey: seq)
            lost += 1
        }
    }

    var summary: ProbeSummary {
        var s = ProbeSummary(
            target: target.description,
            sent: sent,
            answered: answered,
            lost: lost,
            lastReply: lastReply
        )
        s.interval = Duration(interval)
        s.running = sendProbe != nil
        s.rttBucketCounts = bucketCounts
        s.rttSumSeconds = rttSum
        if let p = percentiles() {
            (s.rttP50, s.rttP99) = (p.p50, p.p99)
        }
        return s
    }

    /// The percentiles of the recent RTTs, sorted again only after a new one came: summaries
    /// are read far more often (every UI frame) than probes answer (once a second).
    private var cachedPercentiles: (p50: Duration, p99: Duration)?
    private var percentilesStale = true

    private func percentiles() -> (p50: Duration, p99: Duration)? {
        if percentilesStale {
            percentilesStale = false
            let sorted = rtts.elements.sorted()
            cachedPercentiles = Percentile.nearestRank(0.5, of: sorted).map {
                ($0, Percentile.nearestRank(0.99, of: sorted) ?? $0)
            }
        }
        return cachedPercentiles
    }
}
