import Foundation
import Socks5
import SocksDeckEngine

/// Turns keys into changes of the model and requests to the engine. No ncurses here: the tests
/// drive it with keys and read the model.
public final class DeckController {
    public private(set) var model: DeckModel
    public let engine: SessionEngine
    public let themes: ThemeLibrary
    public private(set) var theme: Theme
    private var messageExpiry: Date?
    /// Probes finish on threads of their own; their results wait here for the next refresh.
    private let finishedProbes = NIOLockedProbeBox()

    public init(engine: SessionEngine, themes: ThemeLibrary, theme: Theme, banner: String?) {
        self.engine = engine
        self.themes = themes
        self.theme = theme
        model = DeckModel(servers: engine.configuration.servers, banner: banner)
        model.themeName = theme.name
    }

    /// Takes the engine's latest snapshots into the model.
    public func refresh() async {
        // Only the selected association's recent datagrams are drawn (the detail pane).
        model.associations = await engine.snapshots(recentDatagrams: .only(model.selectedAssociationSnapshot?.id))
        model.events = await engine.events()
        model.clampSelections()
        for (name, summary) in finishedProbes.take() {
            model.probeSummaries[name] = summary
            say("probe of \(name): \(summary)", .accent, seconds: 8)
        }
        if let expiry = messageExpiry, Date() > expiry {
            model.message = nil
            messageExpiry = nil
        }
    }

    public func say(_ text: String, _ role: Role = .text, seconds: Double = 4) {
        model.message = (text, role)
        messageExpiry = Date().addingTimeInterval(seconds)
    }

    /// Handles one key. Returns false when the user asked to quit.
    public func handle(_ key: Key) async -> Bool {
        if key == .resize { return true }
        if model.form != nil { await handleForm(key); return true }
        if model.editingFilter { handleFilter(key); return true }
        if model.helpVisible, key == .escape || key == .character("?") || key == .function(1) {
            model.helpVisible = false
            return true
        }
        guard let action = KeyTable.action(for: key, in: model.focused) else { return true }
        return await perform(action)
    }

    public func perform(_ action: DeckAction) async -> Bool {
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
            let names = themes.themes.map(\.name)
            let next = names[((names.firstIndex(of: theme.name) ?? -1) + 1) % names.count]
            theme = themes.theme(named: next) ?? theme
            model.themeName = theme.name
            say("theme: \(theme.name)")
        case .up: model.move(-1)
        case .down: model.move(1)
        case .pageUp: model.move(-10)
        case .pageDown: model.move(10)
        case .top: model.move(-1_000_000)
        case .bottom: model.move(1_000_000)
        case .open, .openIPv6:
            guard let server = model.selectedServerDefinition else { say("no server selected", .warning); return true }
            do {
                let id = try await engine.open(server: server, family: action == .openIPv6 ? .ipv6 : nil)
                say("opening #\(id.value) through \(server.name)…")
                await refresh()
                model.focused = .associations
                model.selectedAssociation = model.visibleAssociations.firstIndex { $0.id == id } ?? model.selectedAssociation
            } catch {
                say("\(error)", .error)
            }
        case .close:
            guard let a = model.selectedAssociationSnapshot else { say("no association selected", .warning); return true }
            await engine.close(a.id)
            say("closed #\(a.id.value)")
        case .toggleProbe:
            guard let a = model.selectedAssociationSnapshot else { say("no association selected", .warning); return true }
            if a.probe?.running == true {
                await engine.stopProbe(a.id)
                say("probe stopped on #\(a.id.value)")
            } else {
                do {
                    try await engine.startProbe(a.id)
                    say("probing #\(a.id.value) every second")
                } catch {
                    say("\(error)", .error)
                }
            }
        case .send:
            guard let a = model.selectedAssociationSnapshot, a.state == .associated else {
                say("select an associated association first (Enter on a server opens one)", .warning)
                return true
            }
            var form = model.lastSend ?? SendRequest()
            if form.target.isEmpty { form.target = model.servers.first { $0.name == a.serverName }?.echo?.description ?? "" }
            if form.payload.isEmpty { form.payload = "hello from socksdeck" }
            form.field = 0
            model.form = form
        case .resend:
            guard let last = model.lastSend else { say("nothing sent yet: s opens the send form", .warning); return true }
            await submit(last)
        case .probeServer:
            guard let server = model.selectedServerDefinition else { say("no server selected", .warning); return true }
            guard let endpoint = IPAddress(server.host).map({ IPEndpoint($0, port: server.port) }) else {
                say("probe needs an IP address for \(server.name); use `socksdeck probe` for names", .warning)
                return true
            }
            model.probeSummaries[server.name] = "probing…"
            say("probing \(server.name): about 5–30 s")
            let probe = CapabilityProbe(server: server, endpoint: endpoint, echo: server.echo)
            let box = finishedProbes
            // Blocking sockets, bounded: a thread of its own, never the UI's.
            Thread { box.put(server.name, CapabilityProbe.summary(probe.run())) }.start()
        case .filter:
            model.editingFilter = true
            model.focused = .associations
        case .cycleSort:
            let all = AssociationSort.allCases
            model.sort = all[(all.firstIndex(of: model.sort)! + 1) % all.count]
        }
        return true
    }

    private func handleFilter(_ key: Key) {
        switch key {
        case .enter: model.editingFilter = false
        case .escape: model.editingFilter = false; model.filter = ""
        case .backspace: _ = model.filter.popLast()
        case .character(let c): model.filter.append(c)
        default: break
        }
        model.clampSelections()
    }

    private func handleForm(_ key: Key) async {
        guard var form = model.form else { return }
        switch key {
        case .escape:
            model.form = nil
            return
        case .tab, .down:
            form.field = (form.field + 1) % SendRequest.fieldNames.count
        case .backTab, .up:
            form.field = (form.field + SendRequest.fieldNames.count - 1) % SendRequest.fieldNames.count
        case .enter:
            model.form = nil
            await submit(form)
            return
        case .backspace:
            edit(&form) { _ = $0.popLast() }
        case .character(let c):
            if form.field == 2 { form.hex = c == "y" || c == "Y" } else { edit(&form) { $0.append(c) } }
        default:
            break
        }
        model.form = form
    }

    private func edit(_ form: inout SendRequest, _ change: (inout String) -> Void) {
        switch form.field {
        case 0: change(&form.target)
        case 1: change(&form.payload)
        case 3: change(&form.count)
        case 4: change(&form.interval)
        default: break
        }
    }

    /// Sends what the form says, in the background so that a long --interval never freezes
    /// the screen.
    private func submit(_ form: SendRequest) async {
        guard let a = model.selectedAssociationSnapshot, a.state == .associated else { say("the association is gone", .warning); return }
        guard let target = Self.target(form.target) else { say("target '\(form.target)' is not host:port or [IPv6]:port", .error); return }
        guard let payload = form.hex ? HexPayload.parse(form.payload) : Array(form.payload.utf8) else {
            say("payload is not hex digits", .error)
            return
        }
        guard let count = Int(form.count), (1...100_000).contains(count), let interval = Int(form.interval), (0...60_000).contains(interval) else {
            say("count must be 1–100000 and interval 0–60000 ms", .error)
            return
        }
        model.lastSend = form
        let engine = self.engine
        let id = a.id
        say("sending \(count) × \(payload.count) bytes to \(target) through #\(id.value)")
        Task {
            _ = try? await engine.send(id, to: target, payload: payload, count: count, interval: .milliseconds(interval))
        }
    }

    static func target(_ text: String) -> SOCKSAddress? {
        if let e = IPEndpoint(text) { return .ip(e) }
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]),
              let name = DomainName(String(text[..<colon])), !text[..<colon].contains(":") else { return nil }
        return .domain(name, port: port)
    }

}

/// Probe results handed from the probe threads to the UI loop.
final class NIOLockedProbeBox: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [(String, String)] = []
    func put(_ name: String, _ summary: String) { lock.withLock { results.append((name, summary)) } }
    func take() -> [(String, String)] { lock.withLock { defer { results = [] }; return results } }
}
