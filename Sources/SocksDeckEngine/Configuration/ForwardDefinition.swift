import Socks5
import TOMLKit

/// A `[[forward]]` table of the configuration file:
///
///     [[forward]]
///     server = "dante"                    # a [[server]]'s name
///     local = "127.0.0.1:5353"
///     target = "192.0.2.53:53"            # host:port; a name goes to the server as a name
///     idle_timeout_s = 60                 # optional (decimals allowed)
///     max_flows = 256                     # optional
package struct ForwardDefinition: Sendable, Equatable {
    package var server: String
    package var spec: ForwardSpec
    package var idleTimeout: Duration?
    package var maximumFlows: Int?

    package init(server: String, spec: ForwardSpec, idleTimeout: Duration? = nil, maximumFlows: Int? = nil) {
        self.server = server
        self.spec = spec
        self.idleTimeout = idleTimeout
        self.maximumFlows = maximumFlows
    }

    private static let knownKeys: Set<String> = ["server", "local", "target", "idle_timeout_s", "max_flows"]

    static func parseAll(
        _ value: TOMLValueConvertible?,
        lines: SourceLines,
        path: String?
    ) throws(ConfigurationFileError) -> [ForwardDefinition] {
        guard let value else { return [] }
        guard let array = value.array else {
            throw ConfigurationFileError(
                path: path,
                line: lines.line(ofKey: "forward", inServer: nil),
                message: "'forward' must be an array of tables: write [[forward]]"
            )
        }
        var forwards: [ForwardDefinition] = []
        for (index, element) in array.enumerated() {
            func fail(_ key: String?, _ message: String) -> ConfigurationFileError {
                ConfigurationFileError(
                    path: path,
                    line: key.map { lines.line(ofKey: $0, inTable: "forward", index) }
                        ?? lines.header(of: "forward", index),
                    message: message
                )
            }
            guard let table = element.table else { throw fail(nil, "each [[forward]] must be a table") }
            for key in table.keys where !knownKeys.contains(key) {
                throw fail(
                    key,
                    "unknown key '\(key)' in [[forward]] (known: \(knownKeys.sorted().joined(separator: ", ")))"
                )
            }
            func string(_ key: String) throws(ConfigurationFileError) -> String {
                guard let v = table[key] else { throw fail(nil, "a [[forward]] needs '\(key)'") }
                guard let s = v.string else { throw fail(key, "'\(key)' must be a string") }
                return s
            }
            let server = try string("server")
            let spec: ForwardSpec
            let text = try string("local") + "=" + (try string("target"))
            do { spec = try ForwardSpec(parsing: text) } catch {
                throw fail("local", "[[forward]] \(error.reason)")
            }
            var definition = ForwardDefinition(server: server, spec: spec)
            if let v = table["idle_timeout_s"] {
                guard let seconds = v.double ?? v.int.map(Double.init), seconds > 0, seconds <= 86_400 else {
                    throw fail("idle_timeout_s", "'idle_timeout_s' must be a number of seconds above 0, up to 86400")
                }
                definition.idleTimeout = .milliseconds(Int64((seconds * 1000).rounded()))
            }
            if let v = table["max_flows"] {
                guard let n = v.int, (1...65_536).contains(n) else {
                    throw fail("max_flows", "'max_flows' must be a whole number from 1 to 65536")
                }
                definition.maximumFlows = n
            }
            if forwards.contains(where: { $0.spec.local == spec.local }) {
                throw fail("local", "a second [[forward]] listens on \(spec.local)")
            }
            forwards.append(definition)
        }
        return forwards
    }

    /// Each forward names a configured server (checked once the servers are read).
    static func checkServers(
        of forwards: [ForwardDefinition],
        against servers: [ServerDefinition],
        lines: SourceLines,
        path: String?
    ) throws(ConfigurationFileError) {
        for (index, forward) in forwards.enumerated() where !servers.contains(where: { $0.name == forward.server }) {
            let names = servers.map(\.name)
            throw ConfigurationFileError(
                path: path,
                line: lines.line(ofKey: "server", inTable: "forward", index),
                message: "[[forward]] \(forward.spec): no [[server]] is named '\(forward.server)'"
                    + (names.isEmpty ? "" : " (servers: \(names.joined(separator: ", ")))")
            )
        }
    }
}
