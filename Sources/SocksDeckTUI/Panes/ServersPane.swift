import SocksDeckEngine

/// The configured servers: name, address, authentication, what is known of them, associations.
public enum ServersPane {
    public static let bindings: [KeyBinding] = [
        KeyBinding(keys: [.enter, .character("o")], action: .open, help: "open an association through the selected server", pane: .servers),
        KeyBinding(keys: [.character("6")], action: .openIPv6, help: "open one asking for an IPv6 rendezvous", pane: .servers),
        KeyBinding(keys: [.character("P")], action: .probeServer, help: "probe the selected server's capabilities (socksdeck probe)", pane: .servers),
    ]

    public static func draw(_ model: DeckModel, in rect: Rect, on canvas: Canvas, focused: Bool) {
        canvas.box(rect, title: "\(PaneID.servers.title) (\(model.servers.count))", focused: focused)
        let inner = rect.inner
        guard !inner.isEmpty else { return }
        let wide = inner.width >= 90
        let columns: [(String, Int)] = wide
            ? [("NAME", 16), ("ADDRESS", 24), ("AUTH", 14), ("CAPABILITY", 32), ("ASSOC", 5)]
            : [("NAME", 14), ("ADDRESS", 22), ("CAPABILITY", 14), ("ASSOC", 5)]
        canvas.put(row(columns.map { ($0.0, $0.1) }), y: inner.y, x: inner.x, width: inner.width, role: .header, pad: true)
        if model.servers.isEmpty {
            canvas.put("No servers: add [[server]] tables to the configuration (see README).", y: inner.y + 1, x: inner.x, width: inner.width, role: .muted)
            return
        }
        let visibleRows = inner.height - 1
        let first = max(0, model.selectedServer - visibleRows + 1)
        for (offset, server) in model.servers.dropFirst(first).prefix(visibleRows).enumerated() {
            let index = first + offset
            var capability = model.capability(of: server)
            if let probed = model.probeSummaries[server.name] { capability = .probed(probed) }
            let auth = server.username.map { "user \($0)" } ?? "none"
            let cells: [(String, Int)] = wide
                ? [(server.name, 16), (server.address, 24), (auth, 14), (capability.label, 32), ("\(model.associationCount(of: server))", 5)]
                : [(server.name, 14), (server.address, 22), (capability.label, 14), ("\(model.associationCount(of: server))", 5)]
            let selected = index == model.selectedServer
            let y = inner.y + 1 + offset
            canvas.put(row(cells), y: y, x: inner.x, width: inner.width, role: selected && focused ? .selection : .text, pad: true)
            if !(selected && focused) {
                let capabilityX = inner.x + cells.prefix(wide ? 3 : 2).reduce(0) { $0 + $1.1 + 1 }
                canvas.put(fit(capability.label, wide ? 32 : 14), y: y, x: capabilityX, width: wide ? 32 : 14, role: capability.role)
            }
        }
    }
}

/// Cells laid out in fixed-width columns, one space apart.
func row(_ cells: [(String, Int)]) -> String {
    cells.map { fit($0.0, $0.1, pad: true) }.joined(separator: " ")
}
