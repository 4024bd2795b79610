import Foundation
import Socks5
import SocksDeckEngine

/// What the Servers pane's keys do (its bindings: `ServersPane.bindings`).
struct ServersPaneKeys: PaneKeyHandler {
    func perform(_ action: DeckAction, on c: DeckController) async {
        switch action {
        case .open, .openIPv6: await c.openThroughSelectedServer(ipv6: action == .openIPv6)
        case .probeServer: c.probeSelectedServer()
        case .showFindings: c.showFindingsOfSelectedServer()
        case .addServer: c.openServerForm(editing: false)
        case .editServer: c.openServerForm(editing: true)
        case .removeServer: c.askToRemoveServer()
        case .forward: c.openForwardForm()
        case .stopForward: await c.stopOrHideSelectedForward()
        default: break
        }
    }
}

extension DeckController {
    /// The selected server; nil, said on the status line, when none is (or a forward's row is).
    func selectedServerOrSay() -> ServerDefinition? {
        if let server = model.selectedServerDefinition { return server }
        if let forward = model.selectedForward {
            say("\(forward) is selected: the server keys work on a server's row (↑)", .warning)
        } else {
            say("no server selected", .warning)
        }
        return nil
    }

    /// Enter/o (6: asking for an IPv6 rendezvous): an association through the selected server,
    /// selected in the Associations pane.
    func openThroughSelectedServer(ipv6: Bool) async {
        guard let server = selectedServerOrSay() else { return }
        do {
            let id = try await engine.open(server: server, family: ipv6 ? .ipv6 : nil)
            say("opening #\(id.value) through \(server.name)…", for: .seconds(60))
            pendingOpen = id
            await refresh()
            model.focused = .associations
            model.selectedAssociation =
                model.visibleAssociations.firstIndex { $0.id == id } ?? model.selectedAssociation
        } catch {
            say("\(error)", .error)
        }
    }

    /// P: the capability probe of the selected server, on an engine of its own; the UI's frame loop
    /// collects its progress and findings from the box.
    func probeSelectedServer() {
        guard let server = selectedServerOrSay() else { return }
        if let reason = server.unusableBecause {
            say("server '\(server.name)' cannot be used: \(reason)", .error)
            return
        }
        guard model.probesRunning[server.name] == nil else {
            say("\(server.name) is being probed already", .warning)
            return
        }
        model.probesRunning[server.name] = 0
        say("probing \(server.name): about 5–30 s; its row counts the findings")
        let (box, name) = (finishedProbes, server.name)
        Task {
            // A name is resolved as the engine resolves it (off this loop, every address kept).
            let resolved: ResolvedServer
            do {
                resolved = try await SessionEngine.resolve(server)
            } catch {
                let unreachable = ProbeFinding(
                    key: .unreachable,
                    title: "reachable",
                    verdict: .no,
                    value: "\(error)",
                    evidence: ""
                )
                box.put(name, [unreachable])
                return
            }
            let probe = CapabilityProbe(resolved, echo: server.echo)
            // On an engine of its own: the probe's associations are not the user's (they would be
            // rows to close, count in the server's tally and teach the Servers pane).
            let probing = SessionEngine(configuration: DeckConfiguration(servers: []))
            let findings = (try? await probing.run(probe) { _ in box.progressed(name) }) ?? []
            await probing.shutdown()
            box.put(name, findings)
        }
    }

    /// f: the last probe's findings in full.
    func showFindingsOfSelectedServer() {
        guard let server = selectedServerOrSay() else { return }
        guard model.probeReports[server.name] != nil else {
            let running = model.probesRunning[server.name] != nil
            say(
                running
                    ? "the probe of \(server.name) is still running"
                    : "no probe of \(server.name) yet: P probes it",
                .warning
            )
            return
        }
        model.overlay = .findings(server: server.name)
    }
}
