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

    /// Sends what the form says through the association it was opened on (the selected one
    /// for r), in the background so that a long interval never freezes the screen; how it went
    /// comes back to the status line and the log (`takeFinishedSends`). False when a field is
    /// wrong: the form then says which, and keeps what was typed.
    @discardableResult
    func submit(_ form: inout SendRequest) async -> Bool {
        let subject =
            form.association.map { id in model.associations.first { $0.id == id } } ?? model.selectedAssociationSnapshot
        guard let a = subject, a.state == .associated else {
            let which = (form.association ?? subject?.id).map { "#\($0.value)" } ?? "the association"
            let why = subject.map { "is \($0.state.name) now" } ?? "is gone"
            say("\(which) \(why): nothing sent", .warning)
            note(.warning, subject?.id ?? form.association, "send: \(which) \(why), nothing sent")
            return true
        }
        guard let send = form.validate() else {
            if let problem = form.problem { say("\(form.fields.names[problem.field]): \(problem.message)", .error) }
            return false
        }
        model.lastSend = form
        let engine = self.engine
        let id = a.id
        let box = finishedSends
        say(
            "sending \(send.count) × \(send.payload.count) bytes to \(send.target) through #\(id.value)…",
            for: .seconds(30)
        )
        Task {
            let before = await engine.snapshot(id)?.counters.datagramsReceived ?? 0
            do throws(EngineError) {
                let sent = try await engine.send(
                    id,
                    to: send.target,
                    payload: send.payload,
                    count: send.count,
                    interval: .milliseconds(send.interval)
                )
                // Replies: up to a second after the last send, or until as many came as went.
                var replies = 0
                let deadline = ContinuousClock.now + SendOutcome.replyWait
                while sent > 0 {
                    replies = max((await engine.snapshot(id)?.counters.datagramsReceived ?? before) - before, 0)
                    if replies >= sent || ContinuousClock.now >= deadline { break }
                    try? await Task.sleep(for: .milliseconds(20))
                }
                box.put(SendOutcome(id: id, send: send, result: .success((sent, replies))))
            } catch {
                box.put(SendOutcome(id: id, send: send, result: .failure(error)))
            }
        }
        return true
    }

    /// Sends that ended since the last refresh: what happened, on the status line and in the log.
    func takeFinishedSends() {
        for outcome in finishedSends.take() {
            let what = "\(outcome.send.payload.count) bytes to \(outcome.send.target)"
            switch outcome.result {
            case .success(let (sent, replies)):
                let text =
                    "#\(outcome.id.value) sent \(sent) of \(outcome.send.count) × \(what); "
                    + "\(replies) \(replies == 1 ? "reply" : "replies") within \(SendOutcome.replyWaitText)"
                let role: Role = sent < outcome.send.count ? .warning : replies == 0 ? .warning : .ok
                say(text, role, for: .seconds(8))
                note(
                    role == .ok ? .info : .warning,
                    outcome.id,
                    "send: " + text.dropFirst("#\(outcome.id.value) ".count)
                )
            case .failure(let error):
                say("#\(outcome.id.value) send of \(what) refused: \(error)", .error, for: .seconds(10))
                note(.error, outcome.id, "send of \(what) refused: \(error)")
            }
        }
    }
}

/// How one send from the form (or r) ended: how many went and how many datagrams came back in
/// the wait after it, or the engine's refusal.
struct SendOutcome: Sendable {
    static let replyWait: Duration = .seconds(1)
    static let replyWaitText = "1 s"
    var id: AssociationID
    var send: SendRequest.Validated
    var result: Result<(sent: Int, replies: Int), EngineError>
}
