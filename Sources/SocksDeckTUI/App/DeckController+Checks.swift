import Foundation
import Socks5
import SocksDeckEngine

/// The protocol checks from the TUI: `c` opens the form, `N` runs the NAT behaviour test with the
/// server's STUN server; each runs in the background and its result goes to the Detail pane (and,
/// from the engine, to the log).
extension DeckController {
    func openCheckForm() {
        guard let a = model.selectedAssociationSnapshot, a.state == .associated else {
            say("select an associated association first (Enter on a server opens one)", .warning)
            return
        }
        model.checkForm = CheckForm(server: model.servers.first { $0.name == a.serverName }, association: a.id)
    }

    func handleCheckForm(_ key: Key) {
        guard var form = model.checkForm else { return }
        switch form.handle(key) {
        case .cancel: model.checkForm = nil
        case .stay: model.checkForm = form
        case .submit:
            guard let check = form.validate() else {
                if let p = form.fields.problem { say("\(form.fields.names[p.field]): \(p.message)", .error) }
                model.checkForm = form
                return
            }
            model.checkForm = nil
            start(check, on: form.association)
        }
    }

    func runNATTest() {
        guard let a = model.selectedAssociationSnapshot, a.state == .associated else {
            say("select an associated association first (Enter on a server opens one)", .warning)
            return
        }
        let server = model.servers.first { $0.name == a.serverName }
        guard let target = server?.checkTargets.stun else {
            say("no stun server configured for \(a.serverName): c opens the check form (choose nat)", .warning)
            return
        }
        start(.nat(server: target))
    }

    /// Starts `check` on association `id` (the form's; the selected one when nil), or, while one
    /// runs there, queues it: a second key pressed before the first result is drawn (or while it
    /// runs) is kept, not refused.
    private func start(_ check: ServiceCheck, on id: AssociationID? = nil) {
        let subject = id.map { id in model.associations.first { $0.id == id } } ?? model.selectedAssociationSnapshot
        guard let a = subject else {
            if let id { say("#\(id.value) is gone: the check did not run", .warning) }
            return
        }
        guard a.state == .associated else {
            say("#\(a.id.value) is \(a.state.name) now: the check did not run", .warning)
            return
        }
        if let running = model.checksRunning[a.id] {
            model.checksWaiting[a.id, default: []].append(check)
            say(
                "#\(a.id.value) is running \(running): \(check.kind.rawValue.uppercased()) \(check.target) starts "
                    + "when it ends",
                for: .seconds(8)
            )
            return
        }
        launch(check, through: a.id)
    }

    /// `announce`: say so on the status line; a check that waited its turn leaves the result of
    /// the one before there (the Detail pane says it runs).
    private func launch(_ check: ServiceCheck, through id: AssociationID, announce: Bool = true) {
        model.checksRunning[id] = "\(check.kind) \(check.target)"
        if announce {
            let what = "\(check.kind.rawValue.uppercased()) \(check.target)"
            say("checking \(what) through #\(id.value)…", for: .seconds(30))
        }
        let engine = self.engine
        let box = finishedChecks
        Task {
            do throws(EngineError) {
                box.put((id, .success(try await engine.run(check, through: id))))
            } catch {
                box.put((id, .failure(error)))
            }
        }
    }

    /// Results that came back since the last refresh, into the model and onto the status line.
    func takeFinishedChecks() {
        for (id, outcome) in finishedChecks.take() {
            model.checksRunning[id] = nil
            switch outcome {
            case .success(let r):
                model.checkResults[id, default: []].append(r)
                say(
                    "#\(id.value) \(r.check.rawValue.uppercased()) \(r.passed ? "✔" : "✘") \(r.summary)",
                    r.passed ? .ok : .warning,
                    for: .seconds(8)
                )
            case .failure(let error):
                say("#\(id.value): \(error)", .error)
            }
            // The next one waiting its turn; one that can no longer run (the association ended)
            // fails with the engine's own words, like any other.
            if var waiting = model.checksWaiting[id], !waiting.isEmpty {
                let next = waiting.removeFirst()
                model.checksWaiting[id] = waiting.isEmpty ? nil : waiting
                launch(next, through: id, announce: false)
            }
        }
    }
}
