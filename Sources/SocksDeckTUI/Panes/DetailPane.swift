import Foundation
import Socks5
import SocksDeckEngine

/// Everything the engine knows about the selected association: long values wrapped under their
/// label, every recent datagram with its bytes in full hex. It scrolls (↑/↓ when focused) and
/// z gives it the whole screen.
enum DetailPane {
    static let labelWidth = 13

    /// The pane's lines for an inner width: what `draw` shows from `detailScroll` on, and what
    /// the controller measures to stop scrolling at the end.
    static func lines(
        for a: AssociationSnapshot,
        width: Int,
        checks: [CheckResult] = [],
        running: String? = nil,
        flow: CarriedFlow? = nil,
        losing: Bool = false
    ) -> [(String, Role)] {
        var lines: [(String, Role)] = []
        func add(_ label: String, _ value: String, _ role: Role = .text) {
            lines += labelled(label, value, role, width: width)
        }
        // An association opened for a forward's client is there for the flow: the flow first.
        if let flow { lines += flowLines(flow, width: width) }
        add("state", a.state.description, AssociationHealth.role(a, losing: losing))
        if case .failed(let f) = a.state, let hint = f.hint { add("hint", hint, .warning) }
        // What the user asked a check for comes before the association's particulars, so the newest
        // answer shows without scrolling.
        if running != nil || !checks.isEmpty {
            lines.append(("checks (c runs one, N the NAT test):", .header))
            if let running { lines.append(("  running: \(running)", .accent)) }
            for r in checks.reversed() {
                let mark = r.passed ? "✔" : "✘"
                let rtt = r.roundTrip.map { String(format: ", RTT %.2f ms", $0.milliseconds) } ?? ""
                for line in wrap(
                    "\(mark) \(r.check.rawValue.uppercased()) \(r.target): \(r.summary)\(rtt)",
                    width: width,
                    indent: 2
                ) {
                    lines.append((line, r.passed ? .ok : .warning))
                }
                for e in r.evidence {
                    for line in wrap("    " + e, width: width, indent: 4) { lines.append((line, .muted)) }
                }
            }
        }
        if let r = a.rendezvous {
            add("rendezvous", r.asUsed.description, .accent)
            add("as received", r.asReceived.description + (r.replacedUnspecified ? " (\(r.substitutionReason))" : ""))
        }
        if let declared = a.declared { add("declared", declared.description) }
        add("control", "\(a.controlLocal ?? "?") → \(a.controlRemote ?? a.serverAddress)")
        add("data socket", a.dataSocketLocal ?? "-")
        let start = a.opened
        add(
            "history",
            a.history.map { "\($0.state.name) +\(String(format: "%.1f", $0.since.timeIntervalSince(start) * 1000))ms" }
                .joined(separator: " → ")
        )
        let c = a.counters
        add(
            "sent",
            "\(c.datagramsSent) datagrams, \(c.bytesSent) bytes" + (c.sendErrors > 0 ? ", \(c.sendErrors) errors" : "")
        )
        add("received", "\(c.datagramsReceived) datagrams, \(c.bytesReceived) bytes")
        add(
            "dropped",
            c.drops.isEmpty ? "0" : c.drops.map { "\($0.key.rawValue) \($0.value)" }.sorted().joined(separator: ", "),
            c.drops.isEmpty ? .text : .warning
        )
        if c.controlBytesAfterReply > 0 {
            add(
                "control bytes",
                "\(c.controlBytesAfterReply) after the reply (RFC 1928 gives them no meaning)",
                .warning
            )
        }
        if c.truncatedReplies > 0 {
            add(
                "cut replies",
                "\(c.truncatedReplies), cut to \(c.truncatedTo ?? 0) B (shorter than sent, same start)",
                .warning
            )
        }
        add(
            "rate",
            String(format: "%.1f/s out, %.1f/s in  ", a.sendRate.perSecond(), a.receiveRate.perSecond())
                + sparkline(zip(a.sendRate.history(20), a.receiveRate.history(20)).map { $0 + $1 })
        )
        if let p = a.probe {
            let rtt =
                p.rttP50.map {
                    String(format: "p50 %.2f ms, p99 %.2f ms", $0.milliseconds, (p.rttP99 ?? $0).milliseconds)
                }
                ?? "no reply yet"
            let loss = String(format: "%.1f %% lost", p.lossRatio * 100)
            add(
                "probe",
                "\(p.target)\(p.running ? "" : " (stopped)"): \(rtt), \(p.answered)/\(p.sent) answered, "
                    + "\(p.lost) lost (\(loss))",
                p.lost > 0 ? .warning : .ok
            )
        } else {
            add("probe", "off (p to start)", .muted)
        }
        add("age", "\(AssociationsPane.age(a.age)), idle \(AssociationsPane.age(a.idle))")
        lines.append(("recent datagrams (newest first):", .header))
        if a.recent.isEmpty { lines.append(("  none yet (s sends one)", .muted)) }
        for d in a.recent.reversed() {
            let arrow = d.direction == .sent ? "→" : d.direction == .received ? "←" : "✗"
            let text = String(d.firstBytes.map { (0x20..<0x7F).contains($0) ? Character(UnicodeScalar($0)) : "." })
            let why = d.dropReason.map { " \($0)" } ?? ""
            let role: Role = d.direction == .dropped ? .warning : .text
            for line in wrap("\(arrow) \(d.peer) \(d.size) B\(why) \"\(text)\"", width: width, indent: 2) {
                lines.append((line, role))
            }
            // The bytes in full (the first 64 the engine keeps), 16 to a row.
            let perRow = width >= 4 + 16 * 3 ? 16 : 8
            for row in stride(from: 0, to: d.firstBytes.count, by: perRow) {
                let bytes = d.firstBytes[row..<min(row + perRow, d.firstBytes.count)]
                lines.append(("  " + hexDump(bytes), .muted))
            }
            if d.size > d.firstBytes.count {
                lines.append(("  … \(d.size - d.firstBytes.count) more bytes not kept", .muted))
            }
        }
        return lines
    }

    /// `label` then `value`, wrapped under the label.
    static func labelled(_ label: String, _ value: String, _ role: Role, width: Int) -> [(String, Role)] {
        var v = Substring(value)
        while v.last == " " { v.removeLast() }
        return wrap(fit(label, labelWidth, pad: true) + v, width: width, indent: labelWidth).map { ($0, role) }
    }

    static func draw(_ model: DeckModel, in rect: Rect, on canvas: Canvas, focused: Bool) {
        guard let a = model.selectedAssociationSnapshot else {
            canvas.box(rect, title: PaneID.detail.title, focused: focused)
            canvas.put(
                "Select an association.",
                y: rect.inner.y,
                x: rect.inner.x,
                width: rect.inner.width,
                role: .muted
            )
            return
        }
        let inner = rect.inner
        let (width, checks, running) = (max(inner.width, 1), model.checkResults[a.id] ?? [], model.checkActivity(a.id))
        let (flow, losing) = (model.carriedFlows[a.id], model.probeLosses.recent(a.id))
        let all =
            model.detailLines.kept(for: a, width: width, checks: checks, running: running, flow: flow, losing: losing)
            ?? lines(for: a, width: width, checks: checks, running: running, flow: flow, losing: losing)
        let first = min(max(model.detailScroll, 0), max(all.count - inner.height, 0))
        let below = all.count - first - inner.height
        var title = "\(PaneID.detail.title) #\(a.id.value) via \(a.serverName)"
        if let flow { title += " · fwd \(flow.label)" }
        if first > 0 { title += " ↑\(first)" }
        if below > 0 { title += " ↓\(below)" }
        canvas.box(rect, title: title, focused: focused)
        for (i, line) in all.dropFirst(first).prefix(inner.height).enumerated() {
            canvas.put(line.0, y: inner.y + i, x: inner.x, width: inner.width, role: line.1, pad: true)
        }
    }

    /// Values as block characters, scaled to the largest.
    static func sparkline(_ values: [Int]) -> String {
        let blocks = Array("▁▂▃▄▅▆▇█")
        let top = max(values.max() ?? 0, 1)
        return String(
            values.map { $0 == 0 ? " " : blocks[min(($0 * (blocks.count - 1) + top - 1) / top, blocks.count - 1)] }
        )
    }
}
