import ArgumentParser
import SocksDeckEngine

struct ServersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "servers", abstract: "List the configured servers.")

    @OptionGroup var options: ConfigurationOptions
    @Flag(help: "One JSON object: {\"servers\": [...]}.") var json = false

    struct ServerJSON: Encodable {
        var name, address, auth: String
        var username: String?
        var passwordFrom: String?
        var echo: String?
        var connectTimeoutMs, handshakeTimeoutMs: Int
    }

    func run() async throws {
        let configuration = try options.load()
        let rows = configuration.servers.map {
            ServerJSON(name: $0.name, address: $0.address, auth: $0.credentials == nil ? "none" : "username/password",
                       username: $0.username, passwordFrom: $0.passwordSource?.description, echo: $0.echo?.description,
                       connectTimeoutMs: $0.connectTimeoutMilliseconds, handshakeTimeoutMs: $0.handshakeTimeoutMilliseconds)
        }
        if json {
            struct All: Encodable { var configuration: String?; var servers: [ServerJSON] }
            Output.json(All(configuration: configuration.path, servers: rows))
            return
        }
        guard !rows.isEmpty else {
            Output.line("No servers configured\(configuration.path.map { " in \($0)" } ?? ""). Add [[server]] tables to \(options.config ?? DeckConfiguration.defaultPath()), give host:port to a command, or try the built-in demo: socksdeck send --demo demo echo --text hi")
            return
        }
        let nameWidth = max(4, rows.map(\.name.count).max()!)
        let addressWidth = max(7, rows.map(\.address.count).max()!)
        Output.line("NAME".padding(nameWidth) + "  " + "ADDRESS".padding(addressWidth) + "  AUTH                      ECHO")
        for r in rows {
            let auth = r.username.map { "username/password (\($0))" } ?? "none"
            Output.line(r.name.padding(nameWidth) + "  " + r.address.padding(addressWidth) + "  " + auth.padding(24) + "  " + (r.echo ?? "-"))
        }
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
