import Foundation
import Socks5
import SocksDeckEngine

/// What a server is known to do, from the associations tried through it.
enum ServerCapability: Equatable, Sendable {
    case unknown
    case udpWorks
    case refused(String)
    case unreachable(String)
    /// The summary of a capability probe (P).
    case probed(String)

    var label: String {
        switch self {
        case .unknown: "untried"
        case .udpWorks: "UDP works"
        case .refused(let why): why
        case .unreachable(let why): why
        case .probed(let summary): summary
        }
    }

    var role: Role {
        switch self {
        case .unknown: .muted
        case .udpWorks: .ok
        case .refused: .warning
        case .unreachable: .error
        case .probed: .accent
        }
    }
}

/// A change that waits for the user's y: the status line asks.
enum Confirmation: Equatable, Sendable {
    /// Write this server to the configuration file (appended, or in place of `replacing`).
    case saveServer(ServerDefinition, replacing: String?)
    /// Remove the server from the list; `fromFile` also from the configuration file.
    case removeServer(String, fromFile: Bool)

    var question: String {
        switch self {
        case .saveServer(let s, let old?):
            "Save '\(s.name)' in place of '\(old)' in the configuration file? y/n"
        case .saveServer(let s, nil):
            "Append [[server]] '\(s.name)' to the configuration file? y/n"
        case .removeServer(let name, true):
            "Remove '\(name)': y from the list and the configuration file, l from the list only, n keep it"
        case .removeServer(let name, false):
            "Remove '\(name)' from the list? y/n"
        }
    }
}

/// What the box over the panes shows.
enum OverlayKind: Equatable, Sendable {
    case help
    /// The last probe of a server, every finding.
    case findings(server: String)
}

/// How the associations pane sorts.
enum AssociationSort: String, CaseIterable, Sendable {
    case id, server, state, traffic
}

/// The TUI's state as a plain value: the last engine snapshots and what the user is doing.
/// Panes draw from it; key actions change it. It never touches ncurses or the network.
struct DeckModel: Sendable {
    var servers: [ServerDefinition]
    var associations: [AssociationSnapshot] = [] {
        didSet {
            updateVisibleAssociations()
            serverTallies = ServerTally.tallies(of: associations)
            learnedCapabilities.learn(from: serverTallies)
            probeLosses.update(associations)
        }
    }
    /// When each probe last lost a datagram: what colours a losing association's state.
    var probeLosses = ProbeLosses()
    var events: [EngineEvent] = []
    var focused: PaneID = .servers
    var selectedServer = 0
    /// The row's index, kept on the association it names (`selectedAssociationID`) when rows come
    /// and go above it or the sort moves it.
    var selectedAssociation = 0 {
        didSet {
            let id =
                visibleAssociations.indices.contains(selectedAssociation)
                ? visibleAssociations[selectedAssociation].id : nil
            if id != selectedAssociationID, selectedAssociationID != nil { detailScroll = 0 }
            selectedAssociationID = id
        }
    }
    /// The association selected: the selection follows it, not its row number.
    private(set) var selectedAssociationID: AssociationID?
    /// The forwards, as the engine last showed them (started from the command line, the
    /// configuration or F), the running and the stopped.
    var forwards: [ForwardSnapshot] = [] { didSet { forwardsChanged() } }
    /// Stopped forwards whose rows x took away.
    var hiddenForwards: Set<ForwardID> = [] { didSet { forwardsChanged() } }
    /// The forwards the Servers pane lists, below the servers.
    var listedForwards: [ForwardSnapshot] = []
    /// The forward selected in the Servers pane; nil when a server row is.
    var selectedForward: ForwardID?
    /// The open forward flow each association carries (a flow's association is opened for it).
    var carriedFlows: [AssociationID: CarriedFlow] = [:]
    /// Whether a row of the Associations pane carries a flow: the pane then has a FORWARD column.
    var visibleAssociationsCarryFlows = false
    /// Counts the forwards' changes, for the frame check (comparing every flow's datagrams would
    /// cost more than drawing them).
    var forwardsGeneration = 0
    /// What the UI itself adds to the log (how a send from the form ended), which the engine's
    /// event log does not hold; the newest `maximumNotes`.
    var notes: [LogNote] = []
    static let maximumNotes = 500
    /// Lines up from the newest in the log.
    var logScroll = 0
    /// How many log lines the log pane shows (set from the screen's size): scrolling up stops
    /// when the oldest line is at the top.
    var logRows = 1
    var filter = "" { didSet { updateVisibleAssociations() } }
    var sort: AssociationSort = .id { didSet { updateVisibleAssociations() } }
    /// What the keys go to: the panes, or the form, question, filter or box open over them.
    var mode: DeckMode = .browsing {
        didSet { if oldValue.overlayKind != mode.overlayKind { overlayScroll = 0 } }
    }
    /// The protocol checks run on each association (newest last), the one running now, and those
    /// asked for while it runs (they start in turn, so a key pressed early is not lost).
    var checkResults: [AssociationID: [CheckResult]] = [:]
    var checksRunning: [AssociationID: String] = [:]
    var checksWaiting: [AssociationID: [ServiceCheck]] = [:]

    /// What the Detail pane says is under way on association `id`: the running check, then those
    /// waiting their turn. Nil when none runs.
    func checkActivity(_ id: AssociationID) -> String? {
        guard let running = checksRunning[id] else { return nil }
        let waiting = (checksWaiting[id] ?? []).map { ", then \($0.kind) \($0.target)" }
        return "\(running)…" + waiting.joined()
    }
    var lastSend: SendRequest?
    /// How far the box over the panes (`overlay`) is scrolled.
    var overlayScroll = 0
    /// How far it can scroll (set from the screen's size, as `logRows`).
    var overlayMaximumScroll = 0
    /// Lines of the Detail pane scrolled past, and how far it can go.
    var detailScroll = 0
    var detailMaximumScroll = 0
    /// The detail pane's lines as last measured, reused while they still hold.
    var detailLines = DetailLines()
    /// The focused pane has the whole body of the screen (z).
    var zoomed = false
    /// The last capability probe of each server, in full (f shows them), and the ones running,
    /// with how many findings they have so far.
    var probeReports: [String: [ProbeFinding]] = [:]
    var probesRunning: [String: Int] = [:]

    var themeName = "default"
    var message: (text: String, role: Role)?
    var banner: String?
    /// The last capability probe of each server, in a few words.
    var probeSummaries: [String: String] = [:]

    init(servers: [ServerDefinition], banner: String? = nil) {
        self.servers = servers
        self.banner = banner
    }

    /// The associations pane's rows: filtered (by server, state, rendezvous or id) and sorted.
    /// Kept, not computed on each read: the panes, the selection and the frame check read it
    /// several times a frame, and with a thousand associations each computation was a copy of
    /// all of them.
    private(set) var visibleAssociations: [AssociationSnapshot] = []

    private mutating func updateVisibleAssociations() {
        let needle = filter.lowercased()
        let rows =
            needle.isEmpty
            ? associations
            : associations.filter { a in
                [a.serverName, a.state.name, a.rendezvous?.asUsed.description ?? "", "#\(a.id.value)"]
                    .contains { $0.lowercased().contains(needle) }
                    || carriedFlows[a.id].map { $0.label.lowercased().contains(needle) } == true
            }
        switch sort {
        // The engine hands them over in id order: shared, not copied (a thousand snapshots a frame).
        case .id where rows.indices.dropFirst().allSatisfy({ rows[$0 - 1].id < rows[$0].id }):
            visibleAssociations = rows
        case .id: visibleAssociations = rows.sorted { $0.id < $1.id }
        case .server: visibleAssociations = rows.sorted { ($0.serverName, $0.id) < ($1.serverName, $1.id) }
        case .state: visibleAssociations = rows.sorted { ($0.state.name, $0.id) < ($1.state.name, $1.id) }
        case .traffic:
            visibleAssociations = rows.sorted {
                ($0.counters.datagramsSent + $0.counters.datagramsReceived)
                    > ($1.counters.datagramsSent + $1.counters.datagramsReceived)
            }
        }
        followSelectedAssociation()
        visibleAssociationsCarryFlows =
            !carriedFlows.isEmpty && visibleAssociations.contains { carriedFlows[$0.id] != nil }
    }

    /// Keeps the selection on the association it named; when that one is gone, on the row now
    /// at its place.
    private mutating func followSelectedAssociation() {
        if let id = selectedAssociationID, let row = visibleAssociations.firstIndex(where: { $0.id == id }) {
            if row != selectedAssociation { selectedAssociation = row }
        } else {
            let index = selectedAssociation
            selectedAssociation = index
        }
    }

    /// After the forwards changed: the rows the Servers pane lists and the flows the
    /// associations carry.
    mutating func forwardsChanged() {
        forwardsGeneration &+= 1
        listedForwards = forwards.filter { !hiddenForwards.contains($0.id) }
        var carried: [AssociationID: CarriedFlow] = [:]
        for forward in forwards where forward.isRunning {
            for flow in forward.flows where flow.isOpen {
                for id in flow.associations { carried[id] = CarriedFlow(forward, flow) }
            }
        }
        carriedFlows = carried
        // The filter reads the flows; without one, the rows stay as they are.
        if filter.isEmpty {
            visibleAssociationsCarryFlows =
                !carriedFlows.isEmpty && visibleAssociations.contains { carriedFlows[$0.id] != nil }
        } else {
            updateVisibleAssociations()
        }
    }

    var selectedAssociationSnapshot: AssociationSnapshot? {
        visibleAssociations.indices.contains(selectedAssociation) ? visibleAssociations[selectedAssociation] : nil
    }

    /// The server of the selected row; nil when a forward's row is selected.
    var selectedServerDefinition: ServerDefinition? {
        selectedForward == nil && servers.indices.contains(selectedServer) ? servers[selectedServer] : nil
    }

    /// What the servers pane shows of each server's associations, from one pass over them when
    /// they change: a scan of a thousand associations per server row, twice, cost more than
    /// drawing the row.
    private(set) var serverTallies: [String: ServerTally] = [:]

    /// What each server's associations showed, kept when their rows are removed.
    var learnedCapabilities = LearnedCapabilities()

    /// The latest outcome through each server, whether or not its association is still listed.
    func capability(of server: ServerDefinition) -> ServerCapability {
        learnedCapabilities[server.name]
    }

    /// The associations through a server that have not ended.
    func associationCount(of server: ServerDefinition) -> Int {
        serverTallies[server.name]?.live ?? 0
    }

    /// Keeps selections inside their lists after the lists changed.
    mutating func clampSelections() {
        selectedServer = min(max(selectedServer, 0), max(servers.count - 1, 0))
        if let id = selectedForward, !listedForwards.contains(where: { $0.id == id }) { selectedForward = nil }
        selectedAssociation = min(max(selectedAssociation, 0), max(visibleAssociations.count - 1, 0))
        logScroll = min(max(logScroll, 0), max(logCount - logRows, 0))
        overlayScroll = min(max(overlayScroll, 0), overlayMaximumScroll)
        detailScroll = min(max(detailScroll, 0), detailMaximumScroll)
    }

    /// Moves the focused pane's selection.
    mutating func move(_ delta: Int) {
        if overlay != nil {
            overlayScroll += delta
            clampSelections()
            return
        }
        switch focused {
        case .servers: selectServersPaneEntry(selectedServersPaneEntry + delta)
        case .associations:
            selectedAssociation += delta
            clampSelections()
        case .detail: detailScroll += delta
        case .log: logScroll -= delta
        }
        clampSelections()
    }
}

/// One server's associations, as the servers pane summarises them.
struct ServerTally {
    /// Those that have not ended.
    var live = 0
    /// What the newest association with an outcome says the server does with a request.
    var newestOutcome: (AssociationID, ServerCapability)?

    /// `associations` in the engine's order, oldest first.
    static func tallies(of associations: [AssociationSnapshot]) -> [String: ServerTally] {
        var tallies: [String: ServerTally] = [:]
        for association in associations {
            tallies[association.serverName, default: ServerTally()].add(association)
        }
        return tallies
    }

    private mutating func add(_ association: AssociationSnapshot) {
        let state = association.state
        if !state.isFinal { live += 1 }
        if let capability = ServerCapability(outcome: association) {
            if let (from, _) = newestOutcome, from > association.id { return }
            newestOutcome = (association.id, capability)
        }
    }
}

/// What a frame shows: when it has not changed since the last frame, the frame is not redrawn.
/// Ages tick by the second, so the second is part of it.
struct FrameSignature: Equatable {
    /// What the associations look like, by their revisions: comparing a thousand snapshots
    /// field by field ten times a second cost more than drawing.
    var associations: [AssociationLook]
    var eventCount: Int
    var lastEvent: Date?
    /// The rest of the model, as typed values: describing them as strings was the largest part
    /// of an idle frame.
    var ui: UILook
    var second: Int

    init(_ m: DeckModel, height: Int, width: Int) {
        associations = m.associations.map { AssociationLook(id: $0.id, revision: $0.revision, recent: $0.recent.count) }
        eventCount = m.logCount
        lastEvent = max(m.events.last?.time ?? .distantPast, m.notes.last?.time ?? .distantPast)
        ui = UILook(m, height: height, width: width)
        second = Int(Date().timeIntervalSince1970)
    }

    struct AssociationLook: Equatable {
        var id: AssociationID
        var revision: UInt64
        var recent: Int
    }

    /// Every field of the model a pane draws from, except the associations and the log.
    struct UILook: Equatable {
        var height: Int
        var width: Int
        var focused: PaneID
        var selectedServer: Int
        var selectedAssociation: Int
        var logScroll: Int
        var filter: String
        var sort: AssociationSort
        var mode: DeckMode
        var overlayScroll: Int
        var detailScroll: Int
        var zoomed: Bool
        var selectedForward: ForwardID?
        var forwardsGeneration: Int
        var themeName: String
        var message: String?
        var messageRole: Role?
        var servers: [ServerDefinition]
        var banner: String?
        var probeSummaries: [String: String]
        var probeReports: [String: [ProbeFinding]]
        var probesRunning: [String: Int]
        var checksRunning: [AssociationID: String]
        var checksWaiting: [AssociationID: [ServiceCheck]]
        var checkResultCounts: [AssociationID: Int]

        init(_ m: DeckModel, height: Int, width: Int) {
            self.height = height
            self.width = width
            focused = m.focused
            selectedServer = m.selectedServer
            selectedAssociation = m.selectedAssociation
            logScroll = m.logScroll
            filter = m.filter
            sort = m.sort
            mode = m.mode
            overlayScroll = m.overlayScroll
            detailScroll = m.detailScroll
            zoomed = m.zoomed
            selectedForward = m.selectedForward
            forwardsGeneration = m.forwardsGeneration
            themeName = m.themeName
            message = m.message?.text
            messageRole = m.message?.role
            servers = m.servers
            banner = m.banner
            probeSummaries = m.probeSummaries
            probeReports = m.probeReports
            probesRunning = m.probesRunning
            checksRunning = m.checksRunning
            checksWaiting = m.checksWaiting
            checkResultCounts = m.checkResults.mapValues(\.count)
        }
    }
}

/// A line of the Log pane: one of the engine's events or one of the UI's notes.
struct LogNote: Sendable, Equatable {
    var time: Date
    var level: EngineEvent.Level
    var association: AssociationID?
    var message: String

    init(time: Date, level: EngineEvent.Level, association: AssociationID?, message: String) {
        self.time = time
        self.level = level
        self.association = association
        self.message = message
    }

    init(_ e: EngineEvent) { self.init(time: e.time, level: e.level, association: e.association, message: e.message) }
}

extension DeckModel {
    /// How many lines the log holds: the engine's events and the UI's notes.
    var logCount: Int { events.count + notes.count }

    /// The log's lines oldest first, `upTo` from the oldest (exclusive), at most `count` of them:
    /// the engine's events and the UI's notes merged by time.
    func logLines(upTo end: Int, count: Int) -> [LogNote] {
        let end = min(max(end, 0), logCount)
        let start = max(end - count, 0)
        guard !notes.isEmpty else { return events[start..<end].map(LogNote.init) }
        // Notes are few: merge them into the events by time (a note after events of the same time).
        var merged: [LogNote] = []
        merged.reserveCapacity(logCount)
        var n = 0
        for e in events {
            while n < notes.count, notes[n].time < e.time {
                merged.append(notes[n])
                n += 1
            }
            merged.append(LogNote(e))
        }
        merged += notes[n...]
        return Array(merged[start..<end])
    }
}
