import SocksDeckEngine

/// The forwards, listed in the Servers pane under the servers, in the servers' columns: a
/// heading, then one row each with where it listens, its server, its target, its flows and the
/// datagrams they carried.
enum ForwardRows {
    /// The heading's word for each of the servers' columns.
    private static let headings = [
        "NAME": "FORWARD", "ADDRESS": "LISTENS ON", "AUTH": "THROUGH", "CAPABILITY": "TO · FLOWS · DATAGRAMS",
        "ASSOC": "OPEN",
    ]

    static func heading(columns: [(name: String, width: Int)]) -> String {
        row(columns.map { (headings[$0.name] ?? "", $0.width) })
    }

    /// The row's cells, and what its wide column says with the role it is drawn in. A column the
    /// pane is too narrow for gives its words to the wide one.
    static func cells(
        _ forward: ForwardSnapshot,
        columns: [(name: String, width: Int)]
    ) -> (cells: [(String, Int)], detail: String, role: Role) {
        let names = Set(columns.map(\.name))
        var detail = summary(forward)
        if !names.contains("AUTH") { detail = "via \(forward.serverName) " + detail }
        if !names.contains("ADDRESS") { detail = "\(forward.local) " + detail }
        let value = [
            "NAME": "fwd \(forward.id)", "ADDRESS": forward.local.description, "AUTH": "via \(forward.serverName)",
            "CAPABILITY": detail, "ASSOC": "\(forward.openFlows)",
        ]
        let dropped = forward.drops.values.reduce(0, +) + forward.flows.reduce(0) { $0 + $1.dropped }
        let role: Role = !forward.isRunning ? .muted : dropped > 0 ? .warning : .ok
        return (columns.map { (value[$0.name] ?? "", $0.width) }, detail, role)
    }

    /// "→ 127.0.0.1:53 · 1 open, 3 served · →6 ←6 · 2 dropped": the target, the flows, the
    /// datagrams from the local clients (→) and back from the target (←), over the flows kept.
    static func summary(_ forward: ForwardSnapshot) -> String {
        let toTarget = forward.flows.reduce(0) { $0 + $1.datagramsFromClient }
        let back = forward.flows.reduce(0) { $0 + $1.datagramsFromTarget }
        let dropped = forward.drops.values.reduce(0, +) + forward.flows.reduce(0) { $0 + $1.dropped }
        var words = forward.isRunning ? "" : "stopped · "
        words += "→ \(forward.target) · "
        words +=
            forward.isRunning
            ? "\(forward.openFlows) open, \(forward.flowsOpened) served" : "\(forward.flowsOpened) served"
        words += " · →\(toTarget) ←\(back)"
        if dropped > 0 { words += " · \(dropped) dropped" }
        return words
    }
}
