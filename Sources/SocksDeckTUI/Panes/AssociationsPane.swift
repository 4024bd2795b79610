import Foundation
import SocksDeckEngine

/// One row per association: id, server, rendezvous, control state (coloured by health), the probe's
/// RTT (dimmed with `?` when its answers stopped) and loss, sent and received datagrams, drops,
/// rate, age. Sortable, filterable. When the pane is narrow, the age and the counters go first,
/// then the addresses: the health stays.
enum AssociationsPane {
    static let bindings: [KeyBinding] = [
        KeyBinding(
            keys: [.character("x")],
            action: .close,
            help: "close the selected association (remove it from the list once it has ended)",
            pane: .associations,
            short: "close"
        ),
        KeyBinding(
            keys: [.character("X")],
            action: .removeEnded,
            help: "remove every ended (closed or failed) association",
            pane: .associations,
            short: "remove ended"
        ),
        KeyBinding(
            keys: [.character("p")],
            action: .toggleProbe,
            help: "start/stop the health probe",
            pane: .associations,
            short: "probe on/off"
        ),
        KeyBinding(
            keys: [.character("w")],
            action: .writeCapture,
            help: "write the selected association's capture so far (pcapng, for Wireshark)",
            pane: .associations,
            short: "capture"
        ),
        KeyBinding(
            keys: [.character("/")],
            action: .filter,
            help: "filter (server, state, address)",
            pane: .associations,
            short: "filter"
        ),
        KeyBinding(
            keys: [.character("S")],
            action: .cycleSort,
            help: "sort by id/server/state/traffic",
            pane: .associations,
            short: "sort"
        ),
        KeyBinding(
            keys: [.character("c")],
            action: .check,
            help: "check the relay with a real service: DNS, NTP, STUN or NAT behaviour (results in the Detail pane)",
            pane: .associations,
            short: "check"
        ),
        KeyBinding(
            keys: [.character("N")],
            action: .natTest,
            help: "the relay's NAT behaviour, with the server's STUN server",
            pane: .associations,
            short: "NAT"
        ),
        KeyBinding(keys: [.enter], action: .nextPane, help: "show the detail", pane: .associations, short: "detail"),
    ]

    /// The health (STATE, RTTms, LOSS) side by side, after what names the association.
    static let columns: [(String, Int)] = [
        ("ID", 3), ("SERVER", 10), ("RENDEZVOUS", 17), ("STATE", 11), ("RTTms", 6), ("LOSS", 4), ("SENT", 5),
        ("RECV", 5), ("DROP", 4), ("RATE", 5), ("AGE", 5),
    ]

    /// Which columns go, first to last, when the pane is too narrow for all of them: the age and
    /// the counters, then the addresses (Detail has them), so that the health stays in view.
    static let shedOrder = ["AGE", "RATE", "DROP", "RECV", "SENT", "RENDEZVOUS", "FORWARD", "LOSS", "RTTms", "STATE"]

    /// The columns that fit in `width` cells, in their order; the id always.
    static func shown(_ columns: [(String, Int)], width: Int) -> [(String, Int)] {
        var shown = columns
        var shed = shedOrder[...]
        while shown.reduce(-1, { $0 + $1.1 + 1 }) > width, let next = shed.popFirst() {
            shown.removeAll { $0.0 == next }
        }
        return shown
    }

    /// The RTT cell and whether it is stale (the probe has gone silent, or never answered): the
    /// figure is then the last one measured, marked with `?` and dimmed. "-" without a figure.
    static func rtt(_ probe: ProbeSummary?, now: Date = Date()) -> (text: String, stale: Bool) {
        guard let probe, let p50 = probe.rttP50?.milliseconds else { return ("-", false) }
        let stale = probe.lastReply == nil || probe.isSilent(at: now)
        return (String(format: "%.2f", p50) + (stale ? "?" : ""), stale)
    }

    /// The probe's loss since it started, in percent; "-" without a probe.
    static func loss(_ probe: ProbeSummary?) -> String {
        guard let probe, probe.sent > 0 else { return "-" }
        return String(format: "%.0f%%", probe.lossRatio * 100)
    }

    /// The columns when a row carries a forward flow: which forward and which local client
    /// ("f1 127.0.0.1:40001"), after the server.
    static let columnsWithForward: [(String, Int)] = Array(columns.prefix(2)) + [("FORWARD", 18)] + columns.dropFirst(2)

    static func draw(_ model: DeckModel, in rect: Rect, on canvas: Canvas, focused: Bool) {
        let rows = model.visibleAssociations
        var title = "\(PaneID.associations.title) (\(rows.count)) sort:\(model.sort.rawValue)"
        if !model.filter.isEmpty || model.editingFilter {
            title += " filter:\(model.filter)\(model.editingFilter ? "▏" : "")"
        }
        canvas.box(rect, title: title, focused: focused)
        let inner = rect.inner
        guard !inner.isEmpty else { return }
        let columns = model.visibleAssociationsCarryFlows ? Self.columnsWithForward : Self.columns
        let visibleColumns = Self.shown(columns, width: inner.width)
        canvas.put(row(visibleColumns), y: inner.y, x: inner.x, width: inner.width, role: .header, pad: true)
        guard !rows.isEmpty else {
            let empty =
                !model.associations.isEmpty
                ? "Nothing matches the filter '\(model.filter)' (\(model.associations.count) hidden): "
                    + "/ then Esc clears it."
                : model.servers.isEmpty ? "" : "No associations: select a server and press Enter."
            canvas.put(
                empty,
                y: inner.y + 1,
                x: inner.x,
                width: inner.width,
                role: .muted
            )
            return
        }
        let visibleRows = inner.height - 1
        let first = ListWindow.first(selected: model.selectedAssociation, visibleRows: visibleRows)
        let now = Date()
        for (offset, a) in rows.dropFirst(first).prefix(visibleRows).enumerated() {
            let rtt = Self.rtt(a.probe, now: now)
            let rate = String(format: "%.0f", a.sendRate.perSecond(window: 3) + a.receiveRate.perSecond(window: 3))
            let value = [
                "ID": "#\(a.id.value)", "SERVER": a.serverName, "FORWARD": model.carriedFlows[a.id]?.label ?? "",
                "RENDEZVOUS": a.rendezvous?.asUsed.description ?? "-", "STATE": a.state.name,
                "SENT": "\(a.counters.datagramsSent)", "RECV": "\(a.counters.datagramsReceived)",
                "DROP": "\(a.counters.droppedTotal)", "RATE": rate, "RTTms": rtt.text,
                "LOSS": Self.loss(a.probe), "AGE": age(a.age),
            ]
            let values = visibleColumns.map { value[$0.0] ?? "" }
            let selected = first + offset == model.selectedAssociation
            let y = inner.y + 1 + offset
            let text = row(zip(values, visibleColumns).map { ($0, $1.1) })
            canvas.put(
                text,
                y: y,
                x: inner.x,
                width: inner.width,
                role: selected && focused ? .selection : .text,
                pad: true
            )
            if !(selected && focused), let state = visibleColumns.firstIndex(where: { $0.0 == "STATE" }) {
                let stateX = inner.x + visibleColumns.prefix(state).reduce(0) { $0 + $1.1 + 1 }
                canvas.put(fit(a.state.name, 11), y: y, x: stateX, width: 11, role: model.health(of: a, now: now))
            }
            if !(selected && focused), rtt.stale, let column = visibleColumns.firstIndex(where: { $0.0 == "RTTms" }) {
                let rttX = inner.x + visibleColumns.prefix(column).reduce(0) { $0 + $1.1 + 1 }
                let room = min(visibleColumns[column].1, inner.x + inner.width - rttX)
                canvas.put(fit(rtt.text, room, pad: true), y: y, x: rttX, width: room, role: .muted)
            }
        }
    }

    static func age(_ seconds: TimeInterval) -> String {
        let s = Int(seconds)
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(s % 60)s" }
        return "\(s / 3600)h\(s / 60 % 60)m"
    }
}
