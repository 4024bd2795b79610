import Foundation
import SocksDeckEngine

/// The forward's words: a line per event (or a JSON object), and each flow's figures at the end.
extension ForwardCommand {
    struct EventLine: Encodable {
        var time: Date
        var event: String
        var forward: String
        var client: String?
        var association: Int?
        var message: String
        var flow: FlowLine?
    }

    struct FlowLine: Encodable {
        var client: String
        var associations: [Int]
        var state: String
        var opened: Date
        var closed: Date?
        var datagramsFromClient: Int
        var bytesFromClient: Int
        var datagramsForwarded: Int
        var datagramsFromTarget: Int
        var bytesFromTarget: Int
        var dropped: [String: Int]

        init(_ flow: ForwardFlowSnapshot) {
            client = flow.client.description
            associations = flow.associations.map(\.value)
            state = flow.state
            opened = flow.opened
            closed = flow.closed
            datagramsFromClient = flow.datagramsFromClient
            bytesFromClient = flow.bytesFromClient
            datagramsForwarded = flow.datagramsForwarded
            datagramsFromTarget = flow.datagramsFromTarget
            bytesFromTarget = flow.bytesFromTarget
            dropped = Dictionary(uniqueKeysWithValues: flow.drops.map { ($0.key.rawValue, $0.value) })
        }
    }

    static func print(_ event: ForwardEvent, json: Bool) {
        if json {
            Output.json(
                EventLine(
                    time: event.time,
                    event: event.kind.rawValue,
                    forward: event.forward.description,
                    client: event.client?.description,
                    association: event.association?.value,
                    message: event.message,
                    flow: event.flow.map(FlowLine.init)
                )
            )
        } else {
            Output.line(
                "\(Timestamp.iso8601(event.time)) \(event.kind.rawValue.padding(16)) \(event.forward) \(event.message)"
            )
        }
    }

    static func printSummary(_ forward: ForwardSnapshot) {
        let limited = forward.drops[.flowLimit].map { ", \($0) datagram(s) dropped at the flow limit" } ?? ""
        Output.line(
            "forward \(forward.id) \(forward.spec) through \(forward.serverName): "
                + "\(forward.flowsOpened) flow(s)\(limited)"
        )
        let shown = forward.flows.sorted { $0.opened < $1.opened }
        for flow in shown {
            let drops =
                flow.drops.isEmpty
                ? ""
                : " ("
                    + flow.drops.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.value) \($0.key)" }
                    .joined(separator: "; ") + ")"
            Output.line(
                "  client \(flow.client): \(flow.datagramsFromClient) from the client, \(flow.datagramsForwarded) "
                    + "forwarded, \(flow.datagramsFromTarget) from the target, \(flow.dropped) dropped\(drops); "
                    + "association(s) \(flow.associations.map(\.description).joined(separator: " ")); \(flow.state)"
            )
        }
        if forward.flowsOpened > shown.count {
            Output.line("  (\(forward.flowsOpened - shown.count) older flow(s) not kept)")
        }
    }
}
