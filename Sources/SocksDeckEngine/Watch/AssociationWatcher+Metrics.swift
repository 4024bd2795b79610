import Foundation
import Socks5

/// `watch --metrics`: the watcher's figures in the Prometheus text format.
extension AssociationWatcher {
    /// The Prometheus text exposition of everything watched.
    package func metrics() -> String {
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
            guard let s = w.lastSnapshot, let associated = s.history.first(where: { $0.state == .associated }) else {
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
            (
                "socksdeck_control_bytes_after_reply_total",
                "Bytes the server sent on the control connection after its reply (RFC 1928 gives them no meaning).",
                { $0.counters.controlBytesAfterReply }
            ),
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
                    out.sample(name, ["server": w.server.name, "check": check.kind.rawValue], Double(value(w.checks)))
                }
            }
            out.family(
                "socksdeck_check_rtt_seconds",
                "histogram",
                "Round-trip time of the protocol checks through the relay."
            )
            for w in watched {
                guard let check = w.check else { continue }
                let labels = ["server": w.server.name, "check": check.kind.rawValue]
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
