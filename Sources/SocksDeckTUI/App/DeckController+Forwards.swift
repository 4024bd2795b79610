import Foundation
import Socks5
import SocksDeckEngine

/// A forward for the UI to start: from the command line, the configuration's [[forward]]
/// tables, or the F form.
package struct ForwardLaunch: Sendable {
    var spec: ForwardSpec
    var server: ServerDefinition
    var options: ForwardOptions

    package init(spec: ForwardSpec, server: ServerDefinition, options: ForwardOptions = ForwardOptions()) {
        self.spec = spec
        self.server = server
        self.options = options
    }
}

/// Forwards from the TUI: F opens the form on a server, x stops the selected forward (and takes
/// a stopped one's row away). They start in the background, as binding a port or resolving a
/// server's name must not hold up the screen; how each went comes back through a box.
extension DeckController {
    /// F: the form, bound to the selected server (or the selected forward's server).
    func openForwardForm() {
        let server =
            model.selectedServerDefinition
            ?? model.selectedForwardSnapshot.flatMap { forward in model.servers.first { $0.name == forward.serverName }
            }
        guard let server else {
            say("select a server first: F forwards through it", .warning)
            return
        }
        if let reason = server.unusableBecause {
            say("server '\(server.name)' cannot be used: \(reason)", .error)
            return
        }
        model.forwardForm = ForwardForm(server: server)
    }

    func handleForwardForm(_ key: Key) {
        guard var form = model.forwardForm else { return }
        switch form.handle(key) {
        case .cancel: model.forwardForm = nil
        case .stay: model.forwardForm = form
        case .submit:
            guard let spec = form.validate() else {
                if let p = form.fields.problem { say("\(form.fields.names[p.field]): \(p.message)", .error) }
                model.forwardForm = form
                return
            }
            model.forwardForm = nil
            say("starting the forward \(spec) through \(form.server.name)…", for: .seconds(30))
            start([ForwardLaunch(spec: spec, server: form.server)], announce: true)
        }
    }

    /// Starts forwards in the background. `announce`: say on the status line that one started
    /// (those the UI starts with only speak when they fail: their rows say the rest).
    func start(_ launches: [ForwardLaunch], announce: Bool = false) {
        let (engine, box) = (self.engine, startedForwards)
        for launch in launches {
            Task {
                do throws(EngineError) {
                    let id = try await engine.startForward(launch.spec, through: launch.server, options: launch.options)
                    box.put(StartedForward(launch: launch, outcome: .success(id), announce: announce))
                } catch {
                    box.put(StartedForward(launch: launch, outcome: .failure(error), announce: announce))
                }
            }
        }
    }

    /// How the forwards started since the last refresh went: a new one is selected, a failure is
    /// said on the status line (the engine's log has it already).
    func report(_ started: [StartedForward]) {
        for start in started {
            let what = "forward \(start.launch.spec) through \(start.launch.server.name)"
            switch start.outcome {
            case .success(let id):
                guard start.announce else { continue }
                model.focused = .servers
                model.selectedForward = id
                model.clampSelections()
                say("\(id): \(what) listens (x stops it)", .ok, for: .seconds(8))
            case .failure(let error):
                say("\(what) not started: \(error)", .error, for: .seconds(10))
            }
        }
    }

    /// x in the Servers pane: stops the selected forward; on one already stopped, takes its row
    /// away (as x does with an ended association).
    func stopOrHideSelectedForward() async {
        guard let forward = model.selectedForwardSnapshot else {
            // Without forwards, x on a server means what it means in the Associations pane.
            if model.listedForwards.isEmpty { return sayWhereItWorks(.character("x")) }
            say(
                "x stops the forward selected here (↓ to the forwards); in the Associations pane it closes one",
                .warning
            )
            return
        }
        guard forward.isRunning else {
            let entry = model.selectedServersPaneEntry
            model.hiddenForwards.insert(forward.id)
            model.selectServersPaneEntry(entry)
            say("removed \(forward.id) (stopped) from the list")
            return
        }
        await engine.stopForward(forward.id)
        await refresh()
        say("stopped \(forward.id) \(forward.spec): \(forward.flowsOpened) flow(s) served", .ok)
    }
}

/// How one forward's start went.
struct StartedForward: Sendable {
    var launch: ForwardLaunch
    var outcome: Result<ForwardID, EngineError>
    var announce: Bool
}
