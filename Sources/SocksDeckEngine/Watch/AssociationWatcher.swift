import Foundation
import Socks5

/// Something `watch` reports: an association's life and, each interval, the figures.
package struct WatchEvent: Sendable, Encodable {
    package var time = Date()
    package var event: String
    package var server: String
    package var association: Int?
    package var state: String?
    package var reason: String?
    package var rendezvous: String?
    package var datagramsSent: Int?
    package var datagramsReceived: Int?
    package var probesLost: Int?
    package var rttP50Ms: Double?
    package var reconnects: Int?
    /// With `watch --check`: the check's answers and losses so far, its last RTT, why it last failed.
    package var checkAnswered: Int?
    package var checkLost: Int?
    package var checkRttMs: Double?
    package var checkFailure: String?
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
        var lastRTTMilliseconds: Double?
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
        watched[i].checks.lastRTTMilliseconds = result.roundTrip?.milliseconds
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
                events.append(retire(i, id, state: "closed", reason: "the engine no longer knows it", snapshot: nil))
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
                    events.append(
                        WatchEvent(
                            event: "associated",
                            server: name,
                            association: id.value,
                            state: "associated",
                            reason: checking
                                ?? (target == nil
                                    ? "no echo target, so no probe runs: give --echo HOST:PORT or set echo for "
                                        + "this server"
                                    : nil),
                            rendezvous: s.rendezvous?.asUsed.description
                        )
                    )
                case .closed, .failed:
                    let reason: String
                    switch s.state {
                    case .closed(let why): reason = why
                    case .failed(let failure): reason = "\(failure.name): \(failure.sentence)"
                    default: reason = s.state.name
                    }
                    events.append(retire(i, id, state: s.state.name, reason: reason, snapshot: s))
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
                    events.append(
                        WatchEvent(event: "opening", server: name, association: id.value, state: "connecting")
                    )
                }
            }
            if let id = watched[i].current, watched[i].lastSnapshot?.state == .associated { runCheckIfDue(i, id) }
            if summary {
                let t = totals(i)
                let s = watched[i].lastSnapshot
                events.append(
                    WatchEvent(
                        event: "interval",
                        server: name,
                        association: s?.id.value,
                        state: s?.state.name ?? (watched[i].current == nil ? "down" : "connecting"),
                        datagramsSent: t.counters.datagramsSent,
                        datagramsReceived: t.counters.datagramsReceived,
                        probesLost: t.probesLost,
                        rttP50Ms: s?.probe?.rttP50?.milliseconds,
                        reconnects: watched[i].reconnects,
                        checkAnswered: watched[i].check == nil ? nil : watched[i].checks.answered,
                        checkLost: watched[i].check == nil ? nil : watched[i].checks.lost,
                        checkRttMs: watched[i].checks.lastRTTMilliseconds,
                        checkFailure: watched[i].checks.lastFailure
                    )
                )
            }
        }
        return events
    }

    /// The server's association has ended: its figures join the totals, the next attempt is
    /// scheduled after the backoff (which doubles, up to 30 s), and the end is reported.
    private func retire(
        _ i: Int,
        _ id: AssociationID,
        state: String,
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
            event: state,
            server: watched[i].server.name,
            association: id.value,
            state: state,
            reason: Self.withoutFinalStop(reason) + "; reconnecting in \(Int(watched[i].backoff)) s"
        )
    }

    /// A sentence with a clause after it: "(REP 7); reconnecting", not "(REP 7).; reconnecting".
    static func withoutFinalStop(_ sentence: String) -> String {
        sentence.hasSuffix(".") ? String(sentence.dropLast()) : sentence
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
