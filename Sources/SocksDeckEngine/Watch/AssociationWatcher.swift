import Foundation
import Socks5

/// Something `watch` reports: an association's life and, each interval, the figures.
public struct WatchEvent: Sendable, Encodable {
    public var time = Date()
    public var event: String
    public var server: String
    public var association: Int?
    public var state: String?
    public var reason: String?
    public var rendezvous: String?
    public var datagramsSent: Int?
    public var datagramsReceived: Int?
    public var probesLost: Int?
    public var rttP50Ms: Double?
    public var reconnects: Int?
    /// With `watch --check`: the check's answers and losses so far, its last RTT, why it last failed.
    public var checkAnswered: Int?
    public var checkLost: Int?
    public var checkRttMs: Double?
    public var checkFailure: String?
}

/// Keeps one association per server open, with a health probe, and opens a new one (backing
/// off from 1 s to 30 s) when it dies. Counters of ended associations are kept, so the totals
/// never go back: what Prometheus needs of a counter.
public actor AssociationWatcher {
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

    public let engine: SessionEngine
    private let echo: IPEndpoint?
    private let probeInterval: Duration
    private var watched: [Watched]

    /// `checks[i]`, when given, replaces the echo probe of `servers[i]` as its health signal.
    public init(
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
        Double(probeInterval.components.seconds) + Double(probeInterval.components.attoseconds) / 1e18
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
            await self.record(i, result)
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
        let rtt = (result.roundTripMilliseconds ?? 0) / 1000
        watched[i].checks.lastRTTMilliseconds = result.roundTripMilliseconds
        watched[i].checks.rttSum += rtt
        for (b, bound) in ProbeSummary.rttBucketBounds.enumerated() where rtt <= bound {
            watched[i].checks.rttBuckets[b] += 1
        }
    }

    /// One round: notices ends, reopens what is due, starts probes; returns what happened.
    public func tick(summary: Bool) async -> [WatchEvent] {
        var events: [WatchEvent] = []
        for i in watched.indices {
            let name = watched[i].server.name
            if let id = watched[i].current, let s = await engine.snapshot(id) {
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
                    watched[i].retired.add(s)
                    watched[i].current = nil
                    watched[i].announced = false
                    watched[i].lastSnapshot = nil
                    watched[i].nextAttempt = Date().addingTimeInterval(watched[i].backoff)
                    events.append(
                        WatchEvent(
                            event: s.state.name,
                            server: name,
                            association: id.value,
                            state: s.state.name,
                            reason: Self.withoutFinalStop(reason) + "; reconnecting in \(Int(watched[i].backoff)) s"
                        )
                    )
                    watched[i].backoff = min(watched[i].backoff * 2, 30)
                    await engine.prune()
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
                        rttP50Ms: s?.probe?.rttP50Milliseconds,
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

    /// A sentence with a clause after it: "(REP 7); reconnecting", not "(REP 7).; reconnecting".
    static func withoutFinalStop(_ sentence: String) -> String {
        sentence.hasSuffix(".") ? String(sentence.dropLast()) : sentence
    }

    private func totals(_ i: Int) -> Totals {
        var t = watched[i].retired
        if let s = watched[i].lastSnapshot { t.add(s) }
        return t
    }

    /// The servers whose association is not associated now, each with its state: what a health
    /// check (GET /healthz) answers.
    public func down() -> [String] {
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

    /// The Prometheus text exposition of everything watched.
    public func metrics() -> String {
        var out = MetricsText()
        out.family("socksdeck_association_up", "gauge", "1 when the watched association is associated, else 0.")
        for w in watched {
            out.sample(
                "socksdeck_association_up",
                ["server": w.server.name],
                w.lastSnapshot?.state == .associated ? 1 : 0
            )
        }
        out.family(
            "socksdeck_association_info",
            "gauge",
            "The current association of each server, with its rendezvous address."
        )
        for w in watched {
            guard let s = w.lastSnapshot else { continue }
            out.sample(
                "socksdeck_association_info",
                [
                    "server": w.server.name, "association": "\(s.id.value)", "state": s.state.name,
                    "rendezvous": s.rendezvous?.asUsed.description ?? "",
                ],
                1
            )
        }
        out.family("socksdeck_association_setup_seconds", "gauge", "How long the current association took to set up.")
        for w in watched {
            guard let s = w.lastSnapshot, let associated = s.history.first(where: { $0.state == "associated" }) else {
                continue
            }
            out.sample(
                "socksdeck_association_setup_seconds",
                ["server": w.server.name, "association": "\(s.id.value)"],
                associated.since.timeIntervalSince(s.opened)
            )
        }
        let counters: [(String, String, (Totals) -> Int)] = [
            ("socksdeck_datagrams_sent_total", "Datagrams sent through the relay.", { $0.counters.datagramsSent }),
            (
                "socksdeck_datagrams_received_total", "Datagrams received from the relay.",
                { $0.counters.datagramsReceived }
            ),
            ("socksdeck_bytes_sent_total", "Payload bytes sent through the relay.", { $0.counters.bytesSent }),
            ("socksdeck_bytes_received_total", "Payload bytes received from the relay.", { $0.counters.bytesReceived }),
            ("socksdeck_probes_sent_total", "Health probes sent.", { $0.probesSent }),
            ("socksdeck_probes_answered_total", "Health probes answered.", { $0.probesAnswered }),
            ("socksdeck_probes_lost_total", "Health probes unanswered within their timeout.", { $0.probesLost }),
        ]
        for (name, help, value) in counters {
            out.family(name, "counter", help)
            for i in watched.indices { out.sample(name, ["server": watched[i].server.name], Double(value(totals(i)))) }
        }
        out.family("socksdeck_datagrams_dropped_total", "counter", "Datagrams dropped, by reason.")
        for i in watched.indices {
            let drops = totals(i).counters.drops
            for reason in DatagramDropReason.clientSide {
                out.sample(
                    "socksdeck_datagrams_dropped_total",
                    ["server": watched[i].server.name, "reason": reason.rawValue],
                    Double(drops[reason] ?? 0)
                )
            }
        }
        out.family("socksdeck_reconnects_total", "counter", "Associations opened again after one ended.")
        for w in watched { out.sample("socksdeck_reconnects_total", ["server": w.server.name], Double(w.reconnects)) }
        out.family("socksdeck_probe_rtt_seconds", "histogram", "Round-trip time of health probes through the relay.")
        for i in watched.indices {
            let t = totals(i)
            let labels = ["server": watched[i].server.name]
            for (bound, count) in zip(ProbeSummary.rttBucketBounds, t.rttBuckets) {
                out.sample(
                    "socksdeck_probe_rtt_seconds_bucket",
                    labels.merging(["le": "\(bound)"]) { a, _ in a },
                    Double(count)
                )
            }
            out.sample(
                "socksdeck_probe_rtt_seconds_bucket",
                labels.merging(["le": "+Inf"]) { a, _ in a },
                Double(t.probesAnswered)
            )
            out.sample("socksdeck_probe_rtt_seconds_sum", labels, t.rttSum)
            out.sample("socksdeck_probe_rtt_seconds_count", labels, Double(t.probesAnswered))
        }
        if watched.contains(where: { $0.check != nil }) {
            for (name, help, value) in [
                (
                    "socksdeck_check_answered_total", "Protocol checks (watch --check) answered through the relay.",
                    { (s: CheckStats) in s.answered }
                ),
                (
                    "socksdeck_check_lost_total", "Protocol checks that got no usable answer.",
                    { (s: CheckStats) in s.lost }
                ),
            ] as [(String, String, (CheckStats) -> Int)] {
                out.family(name, "counter", help)
                for w in watched {
                    guard let check = w.check else { continue }
                    out.sample(name, ["server": w.server.name, "check": check.kind], Double(value(w.checks)))
                }
            }
            out.family(
                "socksdeck_check_rtt_seconds",
                "histogram",
                "Round-trip time of the protocol checks through the relay."
            )
            for w in watched {
                guard let check = w.check else { continue }
                let labels = ["server": w.server.name, "check": check.kind]
                for (bound, count) in zip(ProbeSummary.rttBucketBounds, w.checks.rttBuckets) {
                    out.sample(
                        "socksdeck_check_rtt_seconds_bucket",
                        labels.merging(["le": "\(bound)"]) { a, _ in a },
                        Double(count)
                    )
                }
                out.sample(
                    "socksdeck_check_rtt_seconds_bucket",
                    labels.merging(["le": "+Inf"]) { a, _ in a },
                    Double(w.checks.answered)
                )
                out.sample("socksdeck_check_rtt_seconds_sum", labels, w.checks.rttSum)
                out.sample("socksdeck_check_rtt_seconds_count", labels, Double(w.checks.answered))
            }
        }
        return out.text
    }
}

/// The Prometheus text format (version 0.0.4), by hand: the watcher's values are absolute
/// totals read from snapshots at scrape time, which swift-prometheus' increment-only collectors
/// do not model, and the format is a few lines of text.
struct MetricsText {
    private(set) var text = ""

    mutating func family(_ name: String, _ type: String, _ help: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    mutating func sample(_ name: String, _ labels: [String: String], _ value: Double) {
        let rendered = labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\(Self.escape($0.value))\"" }.joined(
            separator: ","
        )
        let number = value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        text += "\(name){\(rendered)} \(number)\n"
    }

    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
