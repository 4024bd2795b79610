import SocksDeckEngine

/// The configured servers: name, address, authentication, what is known of them, associations.
public enum ServersPane {
    public static let bindings: [KeyBinding] = [
        KeyBinding(
            keys: [.enter, .character("o")],
            action: .open,
            help: "open an association through the selected server",
            pane: .servers,
            short: "open"
        ),
        KeyBinding(
            keys: [.character("6")],
            action: .openIPv6,
            help: "open one asking for an IPv6 rendezvous",
            pane: .servers,
            short: "open IPv6"
        ),
        KeyBinding(
            keys: [.character("P")],
            action: .probeServer,
            help: "probe the selected server's capabilities (socksdeck probe)",
            pane: .servers,
            short: "probe"
        ),
        KeyBinding(
            keys: [.character("a")],
            action: .addServer,
            help: "add a server: socks5://[user@]host:port, the password asked with echo off",
            pane: .servers,
            short: "add"
        ),
        KeyBinding(
            keys: [.character("e")],
            action: .editServer,
            help: "edit the selected server",
            pane: .servers,
            short: "edit"
        ),
        KeyBinding(
            keys: [.character("D")],
            action: .removeServer,
            help: "remove the selected server (asks first)",
            pane: .servers,
            short: "remove"
        ),
        KeyBinding(
            keys: [.character("f")],
            action: .showFindings,
            help: "the last probe's findings, each with its evidence",
            pane: .servers,
            short: "findings"
        ),
    ]

    /// The columns for an inner width: CAPABILITY takes what the fixed ones leave, and columns
    /// are dropped (AUTH, then ADDRESS) rather than cut into the border when the pane is narrow.
    static func columns(width: Int) -> [(name: String, width: Int)] {
        let fixed: [(String, Int)] =
            width >= 90
            ? [("NAME", 16), ("ADDRESS", 24), ("AUTH", 14)]
            : width >= 56 ? [("NAME", 14), ("ADDRESS", 22)] : [("NAME", min(14, max(width / 3, 4)))]
        let assoc = ("ASSOC", 5)
        let taken = (fixed + [assoc]).reduce(0) { $0 + $1.1 + 1 }
        return fixed + [("CAPABILITY", max(width - taken, 1)), assoc]
    }

    public static func draw(_ model: DeckModel, in rect: Rect, on canvas: Canvas, focused: Bool) {
        canvas.box(rect, title: "\(PaneID.servers.title) (\(model.servers.count))", focused: focused)
        let inner = rect.inner
        guard !inner.isEmpty else { return }
        let columns = Self.columns(width: inner.width)
        canvas.put(
            row(columns.map { ($0.name, $0.width) }),
            y: inner.y,
            x: inner.x,
            width: inner.width,
            role: .header,
            pad: true
        )
        if model.servers.isEmpty {
            canvas.put(
                "No servers: add [[server]] tables to the configuration (see README).",
                y: inner.y + 1,
                x: inner.x,
                width: inner.width,
                role: .muted
            )
            return
        }
        let visibleRows = inner.height - 1
        let first = ListWindow.first(selected: model.selectedServer, visibleRows: visibleRows)
        let capabilityColumn = columns.firstIndex { $0.name == "CAPABILITY" }!
        for (offset, server) in model.servers.dropFirst(first).prefix(visibleRows).enumerated() {
            let index = first + offset
            var capability = model.capability(of: server)
            if let probed = model.probeSummaries[server.name] { capability = .probed(probed) }
            if let so = model.probesRunning[server.name] { capability = .probed("probing… \(so) findings so far") }
            if let reason = server.unusableBecause { capability = .unreachable("unusable: \(reason)") }
            let auth = server.username.map { "user \($0)" } ?? "none"
            let value: [String: String] = [
                "NAME": server.name, "ADDRESS": server.address, "AUTH": auth, "CAPABILITY": capability.label,
                "ASSOC": "\(model.associationCount(of: server))",
            ]
            let cells = columns.map { (value[$0.name] ?? "", $0.width) }
            let selected = index == model.selectedServer
            let y = inner.y + 1 + offset
            canvas.put(
                row(cells),
                y: y,
                x: inner.x,
                width: inner.width,
                role: selected && focused ? .selection : .text,
                pad: true
            )
            if !(selected && focused) {
                let x = inner.x + columns.prefix(capabilityColumn).reduce(0) { $0 + $1.width + 1 }
                let width = min(columns[capabilityColumn].width, inner.x + inner.width - x)
                if width > 0 {
                    canvas.put(fit(capability.label, width), y: y, x: x, width: width, role: capability.role)
                }
            }
        }
    }
}

/// Cells laid out in fixed-width columns, one space apart.
func row(_ cells: [(String, Int)]) -> String {
    cells.map { fit($0.0, $0.1, pad: true) }.joined(separator: " ")
}
