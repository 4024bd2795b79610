import ArgumentParser
import Foundation
import SocksDeckEngine

/// The configuration file option every command that talks to servers shares.
struct ConfigurationOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The configuration file.", valueName: "FILE"))
    var config: String?

    /// The configuration: --config's file (which must exist), else the default file if there is
    /// one, else no servers at all. Broken files end the command with exit 78.
    func load() throws -> DeckConfiguration {
        let path = config ?? DeckConfiguration.defaultPath()
        guard config != nil || FileManager.default.fileExists(atPath: path) else { return DeckConfiguration(servers: []) }
        do {
            let configuration = try DeckConfiguration.load(path: path)
            configuration.warnings.forEach(Output.warning)
            return configuration
        } catch {
            Output.error(error.description)
            throw Exit.configuration
        }
    }

    /// A configured server by name, or an address given on the spot.
    func server(_ text: String, in configuration: DeckConfiguration) throws -> ServerDefinition {
        if let server = configuration.server(named: text) { return server }
        do {
            return try ServerDefinition.adHoc(text)
        } catch {
            let known = configuration.servers.map(\.name)
            let where_ = configuration.path.map { " in \($0)" } ?? ""
            Output.error("'\(text)' is neither a configured server\(where_)\(known.isEmpty ? "" : " (\(known.joined(separator: ", ")))") nor an address: \(error.message)")
            throw Exit.usage
        }
    }
}
