import SocksDeckEngine

/// The configured servers: name, address, authentication, what is known of them, associations.
enum ServersPane {
    static let bindings: [KeyBinding] = [
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
            keys: [.character("F")],
            action: .forward,
            help: "forward a local UDP address through the selected server to a target (LOCAL=TARGET)",
            pane: .servers,
            short: "forward"
        ),
        KeyBinding(
            keys: [.character("x")],
            action: .stopForward,
            help: "stop the selected forward (on a stopped one: remove its row)",
            pane: .servers,
            short: "stop forward"
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

    static func draw(_ model: DeckModel, in rect: Rect, on canvas: Canvas, focused: Bool) {
        let forwards = model.listedForwards.count
        let title =
            "\(PaneID.servers.title) (\(model.servers.count))"
            + (forwards == 0 ? "" : " · \(forwards) forward\(forwards == 1 ? "" : "s")")
        canvas.box(rect, title: title, focused: focused)
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
        if model.servers.isEmpty && model.listedForwards.isEmpty {
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
        let selectedRow = model.serversPaneRow(ofEntry: model.selectedServersPaneEntry)
        let first = ListWindow.first(selected: selectedRow, visibleRows: visibleRows)
        let wideColumn = columns.firstIndex { $0.name == "CAPABILITY" }!
        let wideX = inner.x + columns.prefix(wideColumn).reduce(0) { $0 + $1.width + 1 }
        let wideWidth = min(columns[wideColumn].width, inner.x + inner.width - wideX)
        for line in first..<min(first + max(visibleRows, 0), model.serversPaneRowCount) {
            let y = inner.y + 1 + line - first
            guard let entry = model.serversPaneEntry(atRow: line) else {
                canvas.put(
                    ForwardRows.heading(columns: columns),
                    y: y,
                    x: inner.x,
                    width: inner.width,
                    role: .header,
                    pad: true
                )
                continue
            }
            let selected = line == selectedRow && focused
            let (cells, detail, role): ([(String, Int)], String, Role)
            if entry < model.servers.count {
                (cells, detail, role) = serverCells(model, model.servers[entry], columns: columns)
            } else {
                (cells, detail, role) = ForwardRows.cells(
                    model.listedForwards[entry - model.servers.count],
                    columns: columns
                )
            }
            canvas.put(
                row(cells),
                y: y,
                x: inner.x,
                width: inner.width,
                role: selected ? .selection : .text,
                pad: true
            )
            if !selected && wideWidth > 0 {
                canvas.put(fit(detail, wideWidth), y: y, x: wideX, width: wideWidth, role: role)
            }
        }
        // Rows above or below the window: marked on the bottom border, as the overlays do.
        let below = model.serversPaneRowCount - first - max(visibleRows, 0)
        if first > 0 || below > 0, rect.width > 12 {
            let marks = (first > 0 ? " ↑\(first)" : "") + (below > 0 ? " ↓\(below)" : "") + " "
            canvas.put(
                marks,
                y: rect.y + rect.height - 1,
                x: rect.x + rect.width - 2 - displayWidth(marks),
                role: focused ? .title : .border
            )
        }
    }

    /// A server's cells, and what its CAPABILITY column says with the role it is drawn in.
    private static func serverCells(
        _ model: DeckModel,
        _ server: ServerDefinition,
        columns: [(name: String, width: Int)]
    ) -> (cells: [(String, Int)], detail: String, role: Role) {
        var capability = model.capability(of: server)
        if let probed = model.probeSummaries[server.name] { capability = .probed(probed) }
        if let so = model.probesRunning[server.name] { capability = .probed("probing… \(so) findings so far") }
        if let reason = server.unusableBecause { capability = .unreachable("unusable: \(reason)") }
        let auth = server.username.map { "user \($0)" } ?? "none"
        let value: [String: String] = [
            "NAME": server.name, "ADDRESS": server.address, "AUTH": auth, "CAPABILITY": capability.label,
            "ASSOC": "\(model.associationCount(of: server))",
        ]
        return (columns.map { (value[$0.name] ?? "", $0.width) }, capability.label, capability.role)
    }
}

/// Cells laid out in fixed-width columns, one space apart.
func row(_ cells: [(String, Int)]) -> String {
    cells.map { fit($0.0, $0.1, pad: true) }.joined(separator: " ")
}
