import Foundation
import Socks5
import SocksDeckEngine

/// Turns keys into changes of the model and requests to the engine. No ncurses here: the tests
/// drive it with keys and read the model.
final class DeckController {
    var model: DeckModel
    let engine: SessionEngine
    let themes: ThemeLibrary
    private(set) var theme: Theme
    private var messageExpiry: Date?
    /// The engine's revision at the last view taken, and whose recent datagrams it carried: while
    /// neither changes the model holds what a new view would say (SessionEngine.viewRevision).
    private var viewRead: (revision: UInt64, selected: AssociationID?)?
    /// Where the panes were at the last `fit`: what a mouse event is matched against.
    private(set) var lastLayout: Layout?
    /// The association whose "opening…" the status line shows: replaced by how it settled.
    var pendingOpen: AssociationID?
    /// Probes finish on threads of their own; their results wait here for the next refresh.
    let finishedProbes = ProbeResultBox()
    let finishedChecks = Handoff<(AssociationID, Result<CheckResult, EngineError>)>()
    let finishedSends = Handoff<SendOutcome>()
    /// Forwards started in the background (F, and those the UI starts with) report here.
    let startedForwards = Handoff<StartedForward>()

    /// Why colours are off, when they are: `t` then says so rather than name a theme that looks
    /// like every other.
    private let colorsOff: String?
    /// The servers that are in the configuration file (the others were added in this session).
    var fileServerNames: Set<String>
    private let themeMemory: ThemeMemory?
    /// Where `w` writes captures.
    let captureDirectory: String

    init(
        engine: SessionEngine,
        themes: ThemeLibrary,
        theme: Theme,
        banner: String?,
        colorsOff: String? = nil,
        themeMemory: ThemeMemory? = nil,
        captureDirectory: String = FileManager.default.currentDirectoryPath
    ) {
        self.captureDirectory = captureDirectory
        self.engine = engine
        self.themes = themes
        self.theme = theme
        self.colorsOff = colorsOff
        fileServerNames = Set(engine.configuration.path == nil ? [] : engine.configuration.servers.map(\.name))
        self.themeMemory = themeMemory
        model = DeckModel(servers: engine.configuration.servers, banner: banner)
        model.themeName = theme.name
    }

    /// Takes the engine's latest snapshots into the model.
    func refresh() async {
        // Only the selected association's recent datagrams are drawn (the detail pane).
        // Read before the view: a change made while the view is read shows again next frame.
        // Forwards that started are taken first: the view read after them lists them.
        let started = startedForwards.take()
        let revision = engine.viewRevision
        let selected = model.selectedAssociationSnapshot?.id
        if viewRead?.revision != revision || viewRead?.selected != selected {
            let view = await engine.view(recentDatagrams: .only(selected))
            // Forwards change what the view shows (their flows' associations, the log): the same
            // revision says when to read them again.
            if viewRead?.revision != revision { model.forwards = await engine.forwards() }
            model.associations = view.associations
            model.events = view.events
            viewRead = (revision, selected)
        }
        model.clampSelections()
        report(started)
        reportSettledOpen()
        takeFinishedChecks()
        takeFinishedSends()
        let (progress, finished) = finishedProbes.take()
        for (name, count) in progress { model.probesRunning[name] = count }
        for (name, findings) in finished {
            model.probesRunning[name] = nil
            model.probeReports[name] = findings
            let summary = CapabilityProbe.summary(findings)
            model.probeSummaries[name] = summary
            say("probe of \(name): \(summary) (f: every finding)", .accent, for: .seconds(8))
        }
        if let expiry = messageExpiry, Date() > expiry {
            model.message = nil
            messageExpiry = nil
        }
    }

    /// Tells the controller the screen's size, so that scrolling stops where the text ends.
    func fit(height: Int, width: Int) {
        let layout = Layout.compute(height: height, width: width, model: model)
        lastLayout = layout
        model.logRows = max(layout.panes[.log]?.inner.height ?? 1, 1)
        if let detail = layout.panes[.detail], let a = model.selectedAssociationSnapshot {
            let lines = model.detailLines.lines(
                for: a,
                width: max(detail.inner.width, 1),
                checks: model.checkResults[a.id] ?? [],
                running: model.checkActivity(a.id),
                flow: model.carriedFlows[a.id],
                losing: model.probeLosses.recent(a.id)
            ).count
            model.detailMaximumScroll = max(lines - detail.inner.height, 0)
        }
        switch model.overlay {
        case .help?:
            model.overlayMaximumScroll = TextOverlay.geometry(HelpOverlay.styled(), in: layout.body).maximumScroll
        case .findings(let server)?:
            model.overlayMaximumScroll =
                TextOverlay.geometry(FindingsOverlay.styled(model.probeReports[server] ?? []), in: layout.body)
                .maximumScroll
        case nil: model.overlayMaximumScroll = 0
        }
        model.clampSelections()
    }

    /// "opening #1…" is true only while it is: once the association settles, the status line
    /// says how (associated and where, or the decoded failure).
    private func reportSettledOpen() {
        guard let id = pendingOpen else { return }
        guard let a = model.associations.first(where: { $0.id == id }) else {
            pendingOpen = nil
            return
        }
        switch a.state {
        case .associated:
            say(
                "#\(id.value) associated through \(a.serverName): rendezvous "
                    + "\(a.rendezvous?.asUsed.description ?? "?")",
                .ok
            )
        case .failed(let f):
            say("#\(id.value) through \(a.serverName) failed: \(f.name): \(f.sentence)", .error, for: .seconds(8))
        case .closed(let reason):
            say("#\(id.value) through \(a.serverName) closed: \(reason)", .warning)
        default:
            return
        }
        pendingOpen = nil
    }

    /// A line of the UI's own in the Log pane, among the engine's events by time.
    func note(_ level: EngineEvent.Level, _ id: AssociationID?, _ message: String) {
        model.notes.append(LogNote(time: Date(), level: level, association: id, message: message))
        if model.notes.count > DeckModel.maximumNotes { model.notes.removeFirst() }
    }

    func say(_ text: String, _ role: Role = .text, for shown: Duration = .seconds(4)) {
        model.message = (text, role)
        messageExpiry = Date().addingTimeInterval(shown / .seconds(1))
    }

    /// Handles one key. Returns false when the user asked to quit.
    func handle(_ key: Key) async -> Bool {
        if key == .resize { return true }
        if case .mouse(let event) = key {
            handleMouse(event)
            return true
        }
        switch model.mode {
        case .confirming: handleConfirmation(key)
        case .editingServer: handleServerForm(key)
        case .checking: handleCheckForm(key)
        case .forwarding: handleForwardForm(key)
        case .sending: await handleForm(key)
        case .filtering: handleFilter(key)
        case .showing: return handleOverlay(key)
        case .browsing: return await handleBrowsing(key)
        }
        return true
    }

    /// A key for the panes: the focused pane's binding, else a global one.
    private func handleBrowsing(_ key: Key) async -> Bool {
        guard let action = KeyTable.action(for: key, in: model.focused) else {
            sayWhereItWorks(key)
            return true
        }
        return await perform(action)
    }

    /// A key that does nothing in the focused pane: which pane it works in, when one.
    func sayWhereItWorks(_ key: Key) {
        if let other = KeyTable.elsewhere(key, notIn: model.focused), let pane = other.pane {
            say("\(key) (\(other.help)) works in the \(pane.title) pane: Tab moves there", .warning)
        }
    }

    func perform(_ action: DeckAction) async -> Bool {
        switch action {
        case .quit:
            return false
        case .nextPane, .previousPane:
            let order = PaneID.allCases
            let i = order.firstIndex(of: model.focused)!
            model.focused = order[(i + (action == .nextPane ? 1 : order.count - 1)) % order.count]
        case .toggleHelp:
            model.helpVisible.toggle()
        case .cycleTheme:
            if let colorsOff {
                say("colours are off (\(colorsOff)): every theme would look the same", .warning)
                return true
            }
            let names = themes.themes.map(\.name)
            let next = names[((names.firstIndex(of: theme.name) ?? -1) + 1) % names.count]
            theme = themes.theme(named: next) ?? theme
            model.themeName = theme.name
            themeMemory?.remember(theme.name)
            say("theme: \(theme.name)")
        case .up: model.move(-1)
        case .down: model.move(1)
        case .pageUp: model.move(-10)
        case .pageDown: model.move(10)
        case .top: model.move(-1_000_000)
        case .bottom: model.move(1_000_000)
        case .send:
            guard let a = model.selectedAssociationSnapshot, a.state == .associated else {
                say("select an associated association first (Enter on a server opens one)", .warning)
                return true
            }
            var form = model.lastSend ?? SendRequest()
            if form.target.isEmpty {
                form.target = model.servers.first { $0.name == a.serverName }?.echo?.description ?? ""
            }
            if form.payload.isEmpty { form.payload = "hello from socksdeck" }
            form.focus(0)
            form.association = a.id
            model.form = form
        case .resend:
            guard var last = model.lastSend else {
                say("nothing sent yet: s opens the send form", .warning)
                return true
            }
            // Again, through the association selected now.
            last.association = nil
            await submit(&last)
        case .zoom:
            model.zoomed.toggle()
            say(model.zoomed ? "\(model.focused.title) zoomed: z again for every pane" : "every pane back")
        default:
            // Every other action is a pane's: the pane it is bound to does it (PaneKeys).
            guard let pane = KeyTable.pane(of: action), let keys = PaneKeys.handler(for: pane) else { return true }
            await keys.perform(action, on: self)
        }
        return true
    }
}
