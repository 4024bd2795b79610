import ArgumentParser
import SocksDeckEngine

struct ServersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "servers",
        abstract: "List the configured servers (or, with --demo, the demo's)."
    )

    @OptionGroup var options: ConfigurationOptions
    @Flag(help: "One JSON object: {\"servers\": [...]}.") var json = false

    struct ServerJSON: Encodable {
        var name, address, auth: String
        var username: String?
        var passwordFrom: String?
        var echo: String?
        var connectTimeoutMs, handshakeTimeoutMs: Int
        /// Why the server cannot be used as configured (a password that is not available).
        var unusable: String?
    }

    func run() async throws {
        // Only --demo starts the demo here: without a configuration file, `servers` says so.
        guard options.demo else { return try list(options.load()) }
        try await options.withConfiguration(serverName: nil, fullNotice: true) { try list($0) }
    }

    private func list(_ configuration: DeckConfiguration) throws {
        let rows = configuration.servers.map {
            ServerJSON(
                name: $0.name,
                address: $0.address,
                auth: $0.username == nil ? "none" : "username/password",
                username: $0.username,
                passwordFrom: $0.passwordSource?.description,
                echo: $0.echo?.description,
                connectTimeoutMs: Int($0.connectTimeout.milliseconds.rounded()),
                handshakeTimeoutMs: Int($0.handshakeTimeout.milliseconds.rounded()),
                unusable: $0.unusableBecause
            )
        }
        if json {
            struct All: Encodable {
                var configuration: String?
                var servers: [ServerJSON]
            }
            Output.json(All(configuration: configuration.path, servers: rows))
            return
        }
        guard !rows.isEmpty else {
            let file = options.config ?? DeckConfiguration.defaultPath()
            Output.line(
                "No servers configured\(configuration.path.map { " in \($0)" } ?? ""). Add [[server]] tables to "
                    + "\(file), give host:port to a command, or try the built-in demo: socksdeck servers --demo"
            )
            return
        }
        let table = rows.map { r in
            [r.name, r.address, r.username.map { "username/password (\($0))" } ?? "none", r.echo ?? "-"]
                + [r.unusable.map { "unusable: \($0)" } ?? ""]
        }
        for line in TextTable.lines(header: ["NAME", "ADDRESS", "AUTH", "ECHO", ""], rows: table) {
            Output.line(line)
        }
    }
}

/// Columns as wide as their widest cell, two spaces apart, the last one unpadded.
enum TextTable {
    static func lines(header: [String], rows: [[String]]) -> [String] {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.indices.map { $0 == row.count - 1 ? row[$0] : row[$0].padding(widths[$0]) }
                .joined(separator: "  ").trimmingTrailingSpaces()
        }
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }

    func trimmingTrailingSpaces() -> String {
        var s = Substring(self)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
