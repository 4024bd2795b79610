import Socks5
import SocksDeckEngine

/// Servers added, edited and removed from the TUI: in the list at once, in the configuration
/// file only after the user said y to the question on the status line.
extension DeckController {
    func openServerForm(editing: Bool) {
        guard editing else {
            model.serverForm = ServerForm(mode: .add)
            return
        }
        guard let server = selectedServerOrSay() else { return }
        model.serverForm = ServerForm(
            mode: .edit(server.name),
            server: server,
            fromFile: fileServerNames.contains(server.name)
        )
    }

    func handleServerForm(_ key: Key) {
        guard var form = model.serverForm else { return }
        switch form.handle(key) {
        case .cancel:
            model.serverForm = nil
        case .stay:
            model.serverForm = form
        case .submit:
            var kept: ServerDefinition?
            if case .edit(let name) = form.mode { kept = model.servers.first { $0.name == name } }
            guard let server = form.validate(existing: model.servers.map(\.name), kept: kept) else {
                if let p = form.fields.problem { say("\(form.fields.names[p.field]): \(p.message)", .error) }
                model.serverForm = form
                return
            }
            model.serverForm = nil
            let replacing: String? = if case .edit(let name) = form.mode { name } else { nil }
            if let replacing, let index = model.servers.firstIndex(where: { $0.name == replacing }) {
                model.servers[index] = server
                model.selectedServer = index
            } else {
                model.servers.append(server)
                model.selectedServer = model.servers.count - 1
            }
            model.selectedForward = nil
            model.focused = .servers
            guard form.saveToFile else {
                say("\(replacing == nil ? "added" : "changed") '\(server.name)' for this session (not saved)", .ok)
                return
            }
            guard engine.configuration.path != nil else {
                say(
                    "added '\(server.name)'; not saved: there is no configuration file (start with --config FILE)",
                    .warning
                )
                return
            }
            let inFile = replacing.map { fileServerNames.contains($0) } ?? false
            model.confirmation = .saveServer(server, replacing: inFile ? replacing : nil)
        }
    }

    func askToRemoveServer() {
        guard let server = selectedServerOrSay() else { return }
        let inFile = fileServerNames.contains(server.name) && engine.configuration.path != nil
        model.confirmation = .removeServer(server.name, fromFile: inFile)
    }

    /// The answer to the question on the status line.
    func handleConfirmation(_ key: Key) {
        guard let question = model.confirmation else { return }
        model.confirmation = nil
        let yes = key == .character("y") || key == .character("Y")
        switch question {
        case .saveServer(let server, let replacing):
            guard yes else {
                say("'\(server.name)' kept for this session only (not saved)")
                return
            }
            save(replacing.map { .replace(name: $0, with: server) } ?? .append(server), naming: server)
        case .removeServer(let name, let fromFile):
            let listOnly = key == .character("l") && fromFile
            guard yes || listOnly else {
                say("'\(name)' kept")
                return
            }
            model.servers.removeAll { $0.name == name }
            model.probeSummaries[name] = nil
            model.probeReports[name] = nil
            model.learnedCapabilities.forget(name)
            model.clampSelections()
            if fromFile && yes {
                save(.remove(name: name), naming: nil, removed: name)
            } else {
                say("removed '\(name)' from the list\(fromFile ? " (it stays in the configuration file)" : "")", .ok)
            }
        }
    }

    private func save(
        _ change: ConfigurationFileEditor.Change,
        naming server: ServerDefinition?,
        removed: String? = nil
    ) {
        guard let path = engine.configuration.path else { return }
        do {
            try ConfigurationFileEditor.apply(change, to: path)
        } catch {
            say("not saved: \(error)", .error, for: .seconds(10))
            return
        }
        if let removed {
            fileServerNames.remove(removed)
            say("removed '\(removed)' from the list and from \(path)", .ok)
            return
        }
        guard let server else { return }
        if case .replace(let old, _) = change { fileServerNames.remove(old) }
        fileServerNames.insert(server.name)
        var words = "saved '\(server.name)' to \(path)"
        if server.username != nil, server.passwordSource == .commandLine || server.passwordSource == nil {
            words += "; its password is not written there: set \(ServerDefinition.passwordVariable(for: server.name))"
        }
        say(words, .ok, for: .seconds(10))
    }
}
