import Foundation
import Socks5
import SocksDeckEngine

/// The forward flow an association carries, with what the Detail pane says of its forward.
struct CarriedFlow: Equatable, Sendable {
    var forward: ForwardID
    var serverName: String
    var local: IPEndpoint
    var target: SOCKSAddress
    /// The target's port: what tells a DNS message from an NTP one when the bytes fit both.
    var targetPort: UInt16 { target.port }
    var flow: ForwardFlowSnapshot

    init(_ forward: ForwardSnapshot, _ flow: ForwardFlowSnapshot) {
        self.forward = forward.id
        serverName = forward.serverName
        local = forward.local
        target = forward.target
        self.flow = flow
    }

    /// "f1 127.0.0.1:40001": the forward and its local client, as the Associations pane shows it.
    var label: String { "\(forward) \(flow.client)" }
}

/// The Servers pane lists the servers, then (under a heading of their own) the forwards: its
/// entries are the rows that can be selected, numbered servers first.
extension DeckModel {
    var serversPaneEntryCount: Int { servers.count + listedForwards.count }

    /// The selected entry: the selected forward's, else the selected server's.
    var selectedServersPaneEntry: Int {
        if let id = selectedForward, let index = listedForwards.firstIndex(where: { $0.id == id }) {
            return servers.count + index
        }
        return selectedServer
    }

    /// Selects an entry (kept inside the list): a server, or a forward by its id.
    mutating func selectServersPaneEntry(_ entry: Int) {
        let entry = min(max(entry, 0), max(serversPaneEntryCount - 1, 0))
        if entry < servers.count || listedForwards.isEmpty {
            selectedServer = entry
            selectedForward = nil
        } else {
            selectedForward = listedForwards[entry - servers.count].id
        }
    }

    /// The rows the pane draws: the servers, and the forwards under their heading.
    var serversPaneRowCount: Int { servers.count + (listedForwards.isEmpty ? 0 : listedForwards.count + 1) }

    /// The row an entry is drawn on (the forwards' heading takes a row).
    func serversPaneRow(ofEntry entry: Int) -> Int { entry < servers.count ? entry : entry + 1 }

    /// The entry drawn on a row; nil for the heading.
    func serversPaneEntry(atRow row: Int) -> Int? {
        if row < servers.count { return row }
        return row == servers.count ? nil : row - 1
    }

    /// The selected forward, when a forward's row is selected.
    var selectedForwardSnapshot: ForwardSnapshot? {
        selectedForward.flatMap { id in listedForwards.first { $0.id == id } }
    }

    /// The forwards running now (the header counts them).
    var runningForwardCount: Int { forwards.count { $0.isRunning } }
}
