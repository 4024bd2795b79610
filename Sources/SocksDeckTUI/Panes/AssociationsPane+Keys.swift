import Foundation
import Socks5
import SocksDeckEngine

/// What the Associations pane's keys do (its bindings: `AssociationsPane.bindings`).
struct AssociationsPaneKeys: PaneKeyHandler {
    func perform(_ action: DeckAction, on c: DeckController) async {
        switch action {
        case .close: await c.closeOrRemoveSelected()
        case .removeEnded: await c.removeEnded()
        case .toggleProbe: await c.toggleProbeOfSelected()
        case .writeCapture: await c.writeCapture()
        case .filter: c.startFilter()
        case .cycleSort: c.cycleSort()
        case .check: c.openCheckForm()
        case .natTest: c.runNATTest()
        default: break
        }
    }
}

extension DeckController {
    /// x: closes the selected association; on one that has ended, removes its row.
    func closeOrRemoveSelected() async {
        guard let a = model.selectedAssociationSnapshot else {
            say("no association selected", .warning)
            return
        }
        if a.state.isFinal {
            // An ended association has nothing left to close: x takes its row away.
            await engine.forget(a.id)
            await refresh()
            say("removed #\(a.id.value) (\(a.state.name)) from the list")
        } else {
            await engine.close(a.id)
            say("closed #\(a.id.value)")
        }
    }

    /// X: removes every ended association.
    func removeEnded() async {
        let removed = await engine.prune()
        await refresh()
        say(
            removed == 0
                ? "no ended associations to remove"
                : "removed \(removed) ended association\(removed == 1 ? "" : "s")"
        )
    }

    /// p: starts or stops the selected association's health probe.
    func toggleProbeOfSelected() async {
        guard let a = model.selectedAssociationSnapshot else {
            say("no association selected", .warning)
            return
        }
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
    }

    /// /: the filter line.
    func startFilter() {
        model.editingFilter = true
        model.focused = .associations
    }

    /// S: the next sort order.
    func cycleSort() {
        let all = AssociationSort.allCases
        model.sort = all[(all.firstIndex(of: model.sort)! + 1) % all.count]
    }
}
