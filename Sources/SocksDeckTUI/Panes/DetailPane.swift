import Foundation
import SocksDeckEngine

/// Everything the engine knows about the selected association.
public enum DetailPane {
    public static func draw(_ model: DeckModel, in rect: Rect, on canvas: Canvas, focused: Bool) {
        guard let a = model.selectedAssociationSnapshot else {
            canvas.box(rect, title: PaneID.detail.title, focused: focused)
            canvas.put("Select an association.", y: rect.inner.y, x: rect.inner.x, width: rect.inner.width, role: .muted)
            return
        }
        canvas.box(rect, title: "\(PaneID.detail.title) #\(a.id.value) via \(a.serverName)", focused: focused)
        let inner = rect.inner
        var lines: [(String, Role)] = []
        func add(_ label: String, _ value: String, _ role: Role = .text) {
            var v = Substring(value)
            while v.last == " " { v.removeLast() }
            lines.append((fit(label, 13, pad: true) + v, role))
        }
        add("state", a.state.description, AssociationsPane.stateRole(a.state))
        if case .failed(let f) = a.state, let hint = f.hint { add("hint", hint, .warning) }
        if let r = a.rendezvous {
            add("rendezvous", r.asUsed.description, .accent)
            add("as received", r.asReceived.description + (r.replacedUnspecified ? " (unspecified: server address used)" : ""))
        }
        add("control", "\(a.controlLocal ?? "?") → \(a.controlRemote ?? a.serverAddress)")
        add("data socket", a.dataSocketLocal ?? "-")
        let start = a.opened
        add("history", a.history.map { "\($0.state) +\(String(format: "%.1f", $0.since.timeIntervalSince(start) * 1000))ms" }.joined(separator: " → "))
        let c = a.counters
        add("sent", "\(c.datagramsSent) datagrams, \(c.bytesSent) bytes" + (c.sendErrors > 0 ? ", \(c.sendErrors) errors" : ""))
        add("received", "\(c.datagramsReceived) datagrams, \(c.bytesReceived) bytes")
        add("dropped", c.drops.isEmpty ? "0" : c.drops.map { "\($0.key) \($0.value)" }.sorted().joined(separator: ", "), c.drops.isEmpty ? .text : .warning)
        if c.truncatedReplies > 0 {
            let cut = "\(c.truncatedReplies), cut to \(c.truncatedTo ?? 0) B (shorter than sent, same start)"
            add("cut replies", cut, .warning)
        }
        add("rate", String(format: "%.1f/s out, %.1f/s in  ", a.sendRate.perSecond(), a.receiveRate.perSecond()) + sparkline(zip(a.sendRate.history(20), a.receiveRate.history(20)).map { $0 + $1 }))
        if let p = a.probe {
            let rtt = p.rttP50Milliseconds.map { String(format: "p50 %.2f ms, p99 %.2f ms", $0, p.rttP99Milliseconds ?? $0) } ?? "no reply yet"
            add("probe", "\(p.target): \(rtt), \(p.answered)/\(p.sent) answered, \(p.lost) lost", p.lost > 0 ? .warning : .ok)
        } else {
            add("probe", "off (p to start)", .muted)
        }
        add("age", "\(AssociationsPane.age(a.age)), idle \(AssociationsPane.age(a.idle))")
        lines.append(("recent datagrams:", .header))
        for d in a.recent.suffix(max(inner.height - lines.count, 0)).reversed() {
            let arrow = d.direction == .sent ? "→" : d.direction == .received ? "←" : "✗"
            let bytes = d.firstBytes.prefix(12).map { String(format: "%02x", $0) }.joined(separator: " ")
            let text = String(d.firstBytes.prefix(32).map { (0x20..<0x7F).contains($0) ? Character(UnicodeScalar($0)) : "." })
            let why = d.dropReason.map { " \($0)" } ?? ""
            lines.append(("\(arrow) \(d.peer) \(d.size)B\(why) \"\(text)\" \(bytes)", d.direction == .dropped ? .warning : .text))
        }
        for (i, line) in lines.prefix(inner.height).enumerated() {
            canvas.put(line.0, y: inner.y + i, x: inner.x, width: inner.width, role: line.1, pad: true)
        }
    }

    /// Values as block characters, scaled to the largest.
    static func sparkline(_ values: [Int]) -> String {
        let blocks = Array("▁▂▃▄▅▆▇█")
        let top = max(values.max() ?? 0, 1)
        return String(values.map { $0 == 0 ? " " : blocks[min(($0 * (blocks.count - 1) + top - 1) / top, blocks.count - 1)] })
    }
}
