import Foundation
import Socks5
import SocksDeckEngine

/// The keys and clicks that do not go through the key table: the mouse, the overlays, the
/// filter line and the forms.
extension DeckController {
    /// A click focuses the pane under it and selects the row under it; the wheel scrolls the
    /// pane under it (or the open box) by three rows, as htop does.
    func handleMouse(_ e: MouseEvent) {
        let step = e.kind == .wheelUp ? -3 : 3
        if model.overlay != nil {
            if e.kind != .click { model.move(step) }
            return
        }
        guard model.mode == .browsing, let layout = lastLayout,
            let (pane, rect) = layout.panes.first(where: { $0.value.contains(y: e.y, x: e.x) })
        else { return }
        model.focused = pane
        guard e.kind == .click else {
            model.move(step)
            return
        }
        let rows = rect.inner.height - 1
        let top = rect.inner.y + 1
        switch pane {
        case .servers:
            if let row = ListWindow.index(
                atScreenRow: e.y,
                top: top,
                selected: model.serversPaneRow(ofEntry: model.selectedServersPaneEntry),
                visibleRows: rows,
                count: model.serversPaneRowCount
            ), let entry = model.serversPaneEntry(atRow: row) {
                model.selectServersPaneEntry(entry)
            }
        case .associations:
            if let i = ListWindow.index(
                atScreenRow: e.y,
                top: top,
                selected: model.selectedAssociation,
                visibleRows: rows,
                count: model.visibleAssociations.count
            ) {
                model.selectedAssociation = i
            }
        case .detail, .log:
            break
        }
    }

    /// Keys while the help or the findings are open: they scroll; Esc (or the key that opened
    /// the box) closes it; q still quits.
    func handleOverlay(_ key: Key) -> Bool {
        switch key {
        case .escape, .character("?"), .function(1), .character("f"): model.overlay = nil
        case .character("q"): return false
        case .up, .character("k"): model.move(-1)
        case .down, .character("j"): model.move(1)
        case .pageUp: model.move(-10)
        case .pageDown, .character(" "): model.move(10)
        case .home, .character("g"): model.move(-1_000_000)
        case .end, .character("G"): model.move(1_000_000)
        default: say("Esc closes this box; ↑/↓ scroll it", .muted)
        }
        return true
    }

    func handleFilter(_ key: Key) {
        switch key {
        case .enter: model.editingFilter = false
        case .escape:
            model.editingFilter = false
            model.filter = ""
        default:
            var editor = LineEditor(model.filter)
            editor.apply(key)
            model.filter = editor.text
        }
        model.clampSelections()
    }

    func handleForm(_ key: Key) async {
        guard var form = model.form else { return }
        switch form.handle(key) {
        case .cancel:
            model.form = nil
        case .stay:
            model.form = form
        case .submit:
            if await submit(&form) { model.form = nil } else { model.form = form }
        }
    }

    /// Sends what the form says, in the background so that a long interval never freezes the
    /// screen. False when a field is wrong: the form then says which, and keeps what was typed.
    @discardableResult
    func submit(_ form: inout SendRequest) async -> Bool {
        guard let a = model.selectedAssociationSnapshot, a.state == .associated else {
            say("the association is gone", .warning)
            return true
        }
        guard let send = form.validate() else {
            if let problem = form.problem { say("\(form.fields.names[problem.field]): \(problem.message)", .error) }
            return false
        }
        model.lastSend = form
        let engine = self.engine
        let id = a.id
        say("sending \(send.count) × \(send.payload.count) bytes to \(send.target) through #\(id.value)")
        Task {
            _ = try? await engine.send(
                id,
                to: send.target,
                payload: send.payload,
                count: send.count,
                interval: .milliseconds(send.interval)
            )
        }
        return true
    }
}
