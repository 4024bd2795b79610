import Foundation
import Socks5

/// Something `watch` reports about one server: an association's life and, each interval, the
/// figures. Typed here; `watch` makes its lines and JSON of it.
package struct WatchEvent: Sendable {
    package var time = Date()
    package var server: String
    package var what: What

    package enum What: Sendable {
        case opening(AssociationID)
        /// `watching`: what follows it (a probe, a check), or why nothing can.
        case associated(AssociationID, rendezvous: RendezvousAddress?, watching: String?)
        /// Closed or failed (`state`), and when the next attempt goes.
        case ended(AssociationID, state: ControlConnectionState, reason: String, reconnectIn: Duration)
        case interval(Figures)
    }

    /// The server's totals so far (ended associations included), each interval.
    package struct Figures: Sendable {
        package var association: AssociationID?
        /// nil while no association is open: down, or still connecting.
        package var state: ControlConnectionState?
        package var connecting: Bool
        package var datagramsSent: Int
        package var datagramsReceived: Int
        package var probesLost: Int
        package var rttP50: Duration?
        package var reconnects: Int
        /// With `watch --check`.
        package var check: CheckFigures?
    }

    /// The check's answers and losses so far, its last RTT, why it last failed.
    package struct CheckFigures: Sendable {
        package var answered: Int
        package var lost: Int
        package var lastRoundTrip: Duration?
        package var failure: String?
    }
}

/// Keeps one association per server open, with a health probe, and opens a new one (backing
/// off from 1 s to 30 s) when it dies. Counters of ended associations are kept, so the totals
/// never go back: what Prometheus needs of a counter.
package actor AssociationWatcher {
    struct Totals {
        var counters = DatagramCounters()
        var probesSent = 0
        var probesAnswered = 0
        var probesLost = 0
        var rttBuckets = [Int](repeating: 0, count: ProbeSummary.rttBucketBounds.count)
        var rttSum = 0.0

        mutating func add(_ s: AssociationSnapshot) {
            counters.datagramsSent += s.counters.datagramsSent
            counters.datagramsReceived += s.counters.datagramsReceived
            counters.bytesSent += s.counters.bytesSent
            counters.bytesReceived += s.counters.bytesReceived
            counters.sendErrors += s.counters.sendErrors
            counters.controlBytesAfterReply += s.counters.controlBytesAfterReply
            for (k, v) in s.counters.drops { counters.drops[k, default: 0] += v }
            if let p = s.probe {
                probesSent += p.sent
                probesAnswered += p.answered
                probesLost += p.lost
                for (i, c) in p.rttBucketCounts.enumerated() where i < rttBuckets.count { rttBuckets[i] += c }
                rttSum += p.rttSumSeconds
            }
        }
    }

    /// `watch --check`: the health signal is a protocol check, counted per server across
    /// reconnects (answered, lost, RTT histogram) like the probe's.
    struct CheckStats {
        var answered = 0
        var lost = 0
        var rttBuckets = [Int](repeating: 0, count: ProbeSummary.rttBucketBounds.count)
        var rttSum = 0.0
        var inFlight = false
        var lastRun = Date.distantPast
        var lastFailure: String?
        var lastRoundTrip: Duration?
    }

    struct Watched {
        var server: ServerDefinition
        var check: ServiceCheck?
        var checks = CheckStats()
        var current: AssociationID?
        /// The current association's "associated" event was reported.
        var announced = false
        var wasEverOpened = false
        var reconnects = 0
        var backoff: Double = 1
        var nextAttempt = Date.distantPast
        var retired = Totals()
        var lastSnapshot: AssociationSnapshot?
    }

    package let engine: SessionEngine
    private let echo: IPEndpoint?
    private let probeInterval: Duration
    private(set) var watched: [Watched]

    /// `checks[i]`, when given, replaces the echo probe of `servers[i]` as its health signal.
    package init(
        engine: SessionEngine,
        servers: [ServerDefinition],
        echo: IPEndpoint?,
        probeInterval: Duration,
        checks: [ServiceCheck?] = []
    ) {
        self.engine = engine
        self.echo = echo
        self.probeInterval = probeInterval
        watched = servers.enumerated().map { i, s in
            Watched(server: s, check: checks.indices.contains(i) ? checks[i] : nil)
        }
    }

    private var intervalSeconds: Double {
        probeInterval / .seconds(1)
    }

    /// Starts the server's check when one is due and none is running; its result comes back to
    /// `record` (checks take up to seconds: the tick does not wait for them).
    private func runCheckIfDue(_ i: Int, _ id: AssociationID) {
        guard let check = watched[i].check, !watched[i].checks.inFlight,
            Date().timeIntervalSince(watched[i].checks.lastRun) >= intervalSeconds
        else { return }
        watched[i].checks.inFlight = true
        watched[i].checks.lastRun = Date()
        let engine = self.engine
        Task {
            let result = try? await engine.run(check, through: id)
            self.record(i, result)
        }
    }

    private func record(_ i: Int, _ result: CheckResult?) {
        watched[i].checks.inFlight = false
        guard let result, result.passed else {
            watched[i].checks.lost += 1
            watched[i].checks.lastFailure = result?.summary ?? "the association ended"
            return
        }
        watched[i].checks.answered += 1
        watched[i].checks.lastFailure = nil
        let rtt = (result.roundTrip ?? .zero).milliseconds / 1000
        watched[i].checks.lastRoundTrip = result.roundTrip
        watched[i].checks.rttSum += rtt
        for (b, bound) in ProbeSummary.rttBucketBounds.enumerated() where rtt <= bound {
            watched[i].checks.rttBuckets[b] += 1
        }
    }

    /// One round: notices ends, reopens what is due, starts probes; returns what happened.
    package func tick(summary: Bool) async -> [WatchEvent] {
        var events: [WatchEvent] = []
        for i in watched.indices {
            let name = watched[i].server.name
            var known: AssociationSnapshot?
            if let id = watched[i].current { known = await engine.snapshot(id) }
            if let id = watched[i].current, known == nil {
                // Forgotten by someone else: ended as far as watch can tell, so reported and reopened,
                // never left standing as it last was.
                let reason = "the engine no longer knows it"
                events.append(retire(i, id, state: .closed(reason: reason), reason: reason, snapshot: nil))
            } else if let id = watched[i].current, let s = known {
                watched[i].lastSnapshot = s
                switch s.state {
                case .associated:
                    guard !watched[i].announced else { break }
                    watched[i].announced = true
                    watched[i].backoff = 1
                    let target = watched[i].check == nil ? echo ?? watched[i].server.echo : nil
                    if let target { try? await engine.startProbe(id, target: target, interval: probeInterval) }
                    let checking = watched[i].check.map {
                        "checking \($0.kind) \($0.target) every interval (no echo probe)"
                    }
                    let watching =
                        checking
                        ?? (target == nil
                            ? "no echo target, so no probe runs: give --echo HOST:PORT or set echo for this server"
                            : nil)
                    events.append(
                        WatchEvent(
                            server: name,
                            what: .associated(id, rendezvous: s.rendezvous, watching: watching)
                        )
                    )
                case .closed, .failed:
                    let reason: String
                    switch s.state {
                    case .closed(let why): reason = why
                    case .failed(let failure): reason = "\(failure.name): \(failure.sentence)"
                    default: reason = s.state.name
                    }
                    events.append(retire(i, id, state: s.state, reason: reason, snapshot: s))
                    // Only this one: a global prune dropped other servers' ended associations before
                    // this loop had seen them end, and they stayed "associated" here for ever.
                    await engine.forget(id)
                default:
                    break
                }
            }
            if watched[i].current == nil, Date() >= watched[i].nextAttempt {
                if watched[i].wasEverOpened { watched[i].reconnects += 1 }
                watched[i].wasEverOpened = true
                if let id = try? await engine.open(server: watched[i].server) {
                    watched[i].current = id
                    events.append(WatchEvent(server: name, what: .opening(id)))
                }
            }
            if let id = watched[i].current, watched[i].lastSnapshot?.state == .associated { runCheckIfDue(i, id) }
            if summary {
                let t = totals(i)
                let s = watched[i].lastSnapshot
                let checks = watched[i].checks
                let figures = WatchEvent.Figures(
                    association: s?.id,
                    state: s?.state,
                    connecting: s == nil && watched[i].current != nil,
                    datagramsSent: t.counters.datagramsSent,
                    datagramsReceived: t.counters.datagramsReceived,
                    probesLost: t.probesLost,
                    rttP50: s?.probe?.rttP50,
                    reconnects: watched[i].reconnects,
                    check: watched[i].check.map { _ in
                        WatchEvent.CheckFigures(
                            answered: checks.answered,
                            lost: checks.lost,
                            lastRoundTrip: checks.lastRoundTrip,
                            failure: checks.lastFailure
                        )
                    }
                )
                events.append(WatchEvent(server: name, what: .interval(figures)))
            }
        }
        return events
    }

    /// The server's association has ended: its figures join the totals, the next attempt is
    /// scheduled after the backoff (which doubles, up to 30 s), and the end is reported.
    private func retire(
        _ i: Int,
        _ id: AssociationID,
        state: ControlConnectionState,
        reason: String,
        snapshot: AssociationSnapshot?
    ) -> WatchEvent {
        if let snapshot { watched[i].retired.add(snapshot) }
        watched[i].current = nil
        watched[i].announced = false
        watched[i].lastSnapshot = nil
        watched[i].nextAttempt = Date().addingTimeInterval(watched[i].backoff)
        defer { watched[i].backoff = min(watched[i].backoff * 2, 30) }
        return WatchEvent(
            server: watched[i].server.name,
            what: .ended(id, state: state, reason: reason, reconnectIn: .seconds(watched[i].backoff))
        )
    }

    func totals(_ i: Int) -> Totals {
        var t = watched[i].retired
        if let s = watched[i].lastSnapshot { t.add(s) }
        return t
    }

    /// The servers whose association is not associated now, each with its state: what a health
    /// check (GET /healthz) answers.
    package func down() -> [String] {
        watched.compactMap { w in
            let state = w.lastSnapshot?.state
            guard state == .associated else {
                return "\(w.server.name) (\(state?.name ?? (w.current == nil ? "down" : "connecting")))"
            }
            // With --check, an association whose service stopped answering through it is down too.
            if let check = w.check, let failure = w.checks.lastFailure {
                return "\(w.server.name) (check \(check.kind) failing: \(failure))"
            }
            return nil
        }
    }

}
