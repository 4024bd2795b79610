import Foundation
import SocksDeckEngine

/// What the Detail pane says of the forward flow an association carries: the forward, the local
/// client, what went each way, the drops in words, and the flow's recent datagrams decoded.
extension DetailPane {
    static func flowLines(_ carried: CarriedFlow, width: Int) -> [(String, Role)] {
        let flow = carried.flow
        var lines: [(String, Role)] = []
        func add(_ label: String, _ value: String, _ role: Role = .text) {
            lines += labelled(label, value, role, width: width)
        }
        add(
            "forward",
            "\(carried.forward) \(carried.local) → \(carried.target) through \(carried.serverName)",
            .accent
        )
        let age = AssociationsPane.age(max(Date().timeIntervalSince(flow.opened), 0))
        let idle = AssociationsPane.age(max(Date().timeIntervalSince(flow.lastActivity), 0))
        add("client", "\(flow.client), for \(age), idle \(idle)")
        add("flow", flow.state)
        if flow.associations.count > 1 {
            add("associations", flow.associations.map(\.description).joined(separator: ", "))
        }
        add(
            "from client",
            "\(flow.datagramsFromClient) datagrams, \(flow.bytesFromClient) B, \(flow.datagramsForwarded) forwarded"
        )
        add("from target", "\(flow.datagramsFromTarget) datagrams, \(flow.bytesFromTarget) B")
        add(
            "flow drops",
            flow.drops.isEmpty
                ? "none"
                : flow.drops.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.value) \($0.key)" }
                    .joined(separator: "; "),
            flow.drops.isEmpty ? .text : .warning
        )
        lines.append(("flow datagrams (newest first):", .header))
        if flow.recent.isEmpty { lines.append(("  none yet", .muted)) }
        for decoded in DecodedFlowDatagram.decode(flow.recent, targetPort: carried.targetPort).reversed() {
            for line in wrap(decoded.line, width: width, indent: 2) {
                lines.append((line, decoded.summary == nil ? .muted : .text))
            }
        }
        return lines
    }
}
