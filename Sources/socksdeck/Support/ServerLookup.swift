import ArgumentParser
import Foundation
import Socks5
import SocksDeckEngine

/// The configuration file option every command that talks to servers shares.
struct ConfigurationOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The configuration file.", valueName: "FILE"))
    var config: String?

    @Flag(help: "Run against the built-in demo (SocksDeck's own relays, in this process).")
    var demo = false

    /// The configuration to work with, and the demo when one was started: with --demo, or when
    /// there is no configuration file at all and the server named is one of the demo's (or none
    /// is named). The user is told it is the demo, on stderr: in one line, or with `fullNotice`
    /// (`servers --demo`, which asks about it) everything the demo runs.
    func prepare(serverName: String?, fullNotice: Bool = false) async throws -> (DeckConfiguration, DemoEnvironment?) {
        let noFile = config == nil && !FileManager.default.fileExists(atPath: DeckConfiguration.defaultPath())
        let wantsDemo = demo || (noFile && (serverName.map { DemoEnvironment.serverNames.contains($0) } ?? true))
        guard wantsDemo else { return (try load(), nil) }
        let environment = try await DemoEnvironment.start()
        Output.notice(fullNotice ? environment.notice : DemoEnvironment.oneLineNotice)
        return (environment.configuration, environment)
    }

    /// The configuration: --config's file (which must exist), else the default file if there is
    /// one, else no servers at all. A missing or unreadable --config file ends the command with
    /// exit 66, a broken one with exit 78.
    func load() throws -> DeckConfiguration {
        let path = config ?? DeckConfiguration.defaultPath()
        guard config != nil || FileManager.default.fileExists(atPath: path) else {
            return DeckConfiguration(servers: [])
        }
        do {
            let configuration = try DeckConfiguration.load(path: path)
            configuration.warnings.forEach(Output.warning)
            return configuration
        } catch {
            Output.error(error.description)
            throw error.fileUnreadable ? Exit.noInput : Exit.configuration
        }
    }

    /// A configured server by name, or an address given on the spot.
    /// A configured server that cannot be used (its password is not available) ends the command
    /// with exit 78, naming what is missing; the other servers are not affected.
    func server(_ text: String, in configuration: DeckConfiguration) throws -> ServerDefinition {
        if let server = configuration.server(named: text) {
            if let reason = server.unusableBecause {
                Output.error(
                    "server '\(server.name)'\(configuration.path.map { " in \($0)" } ?? "") cannot be used: \(reason)"
                )
                throw Exit.configuration
            }
            if (try? ServerDefinition.adHoc(text))?.address != nil, server.address != text {
                Output.warning(
                    "'\(text)' is the name of a configured server (address \(server.address)); using that server"
                )
            }
            return server
        }
        do {
            return try ServerDefinition.adHoc(text)
        } catch {
            let known = configuration.servers.map(\.name)
            let where_ = configuration.path.map { " in \($0)" } ?? ""
            let names = known.isEmpty ? "" : " (\(known.joined(separator: ", ")))"
            Output.error("'\(text)' is neither a configured server\(where_)\(names) nor an address: \(error.message)")
            throw Exit.usage
        }
    }
}

extension ConfigurationOptions {
    /// Runs `body` with the configuration (see `prepare`), stopping the demo afterwards if one
    /// was started, whatever happens.
    func withConfiguration(
        serverName: String?,
        fullNotice: Bool = false,
        _ body: (DeckConfiguration) async throws -> Void
    ) async throws {
        let (configuration, demo) = try await prepare(serverName: serverName, fullNotice: fullNotice)
        do {
            try await body(configuration)
        } catch {
            await demo?.stop()
            throw error
        }
        await demo?.stop()
    }
}

/// `--resolve` for a target (send, check, forward): a name becomes the first address the system
/// resolver gives for it here; an address stays as it is. A name that does not resolve ends the
/// command with exit 1.
func resolvedHere(_ destination: SOCKSAddress) throws -> SOCKSAddress {
    guard case .domain(let name, let port) = destination else { return destination }
    guard let endpoint = NameResolution.resolve(name.description, port: port, datagram: true) else {
        Output.error("cannot resolve '\(name)'")
        throw Exit.operationFailed
    }
    return .ip(endpoint)
}

/// `openAssociation` for the commands that go on to send through it (send, check): a failure is
/// reported (JSON too) and ends the command with exit 1; success says the rendezvous.
func openAssociatedOrExit(
    _ engine: SessionEngine,
    _ definition: ServerDefinition,
    family: AddressFamily?,
    json: Bool
) async throws -> (AssociationID, AssociationSnapshot) {
    let (id, settled) = try await openAssociation(engine, definition, family: family)
    guard settled.state == .associated else {
        if case .failed(let f) = settled.state {
            if json { Output.json(["error": FailureJSON(f)]) }
            Output.error("association through \(definition.name) failed: \(f)")
        }
        await engine.shutdown()
        throw Exit.operationFailed
    }
    if !json {
        Output.line("association \(id) through \(definition.name): rendezvous \(settled.rendezvous!.description)")
    }
    return (id, settled)
}

/// Opens an association and waits until it settles (connect plus handshake time, and a second);
/// the caller reports how it settled. When it cannot even start, prints why and exits 1.
func openAssociation(
    _ engine: SessionEngine,
    _ definition: ServerDefinition,
    family: AddressFamily?
) async throws -> (AssociationID, AssociationSnapshot) {
    do {
        let settled = try await engine.openAndWait(
            server: definition,
            family: family,
            timeout: definition.settleBound
        )
        return (settled.id, settled)
    } catch {
        Output.error(error.description)
        await engine.shutdown()
        throw Exit.operationFailed
    }
}

extension DeclaredSource: ExpressibleByArgument {}

/// `--declare`, for the commands that open associations: what UDP ASSOCIATE declares as DST,
/// over the server's `declare` setting.
struct DeclareOption: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "What UDP ASSOCIATE declares as DST: zero (0.0.0.0:0), port (the data socket's port, the default), "
                + "or address (the address the server sees, with that port).",
            valueName: "zero|port|address"
        )
    )
    var declare: DeclaredSource?

    func applied(to server: ServerDefinition) -> ServerDefinition {
        var server = server
        if let declare { server.declare = declare }
        return server
    }
}
