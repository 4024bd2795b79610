import Foundation
import Socks5
import TOMLKit
import UDPChecks

/// SocksDeck's configuration file (TOML):
///
///     [[server]]
///     name = "dante"
///     address = "127.0.0.1:1080"          # IPv6 literal in brackets: "[::1]:1080"
///     echo = "127.0.0.1:9999"             # optional: UDP echo target for health probes
///     connect_timeout_ms = 5000           # optional
///     handshake_timeout_ms = 10000        # optional
///
///     [[server]]
///     name = "dante-auth"
///     address = "127.0.0.1:1081"
///     username = "socksuser"
///     password_env = "DANTE_PASSWORD"     # or password_file = "/path", or password = "..." (warned)
///
/// Everything is checked before anything starts: an error names the file, the line and the
/// problem, and no server of a broken file is used.
package struct DeckConfiguration: Sendable, Equatable {
    package var servers: [ServerDefinition]
    /// `[[forward]]` tables: what `socksdeck forward` starts when no server is named.
    package var forwards: [ForwardDefinition] = []
    /// Things that work but deserve attention (an inline password in a file others can read).
    package var warnings: [String]
    /// The file it came from, if any.
    package var path: String?

    package init(servers: [ServerDefinition], warnings: [String] = [], path: String? = nil) {
        self.servers = servers
        self.warnings = warnings
        self.path = path
    }

    package func server(named name: String) -> ServerDefinition? { servers.first { $0.name == name } }

    /// `$XDG_CONFIG_HOME/socksdeck/config.toml`, or `~/.config/socksdeck/config.toml`.
    package static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let base =
            environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.config")
        return base + "/socksdeck/config.toml"
    }

    package static func load(
        path: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigurationFileError) -> DeckConfiguration {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read" : "does not exist"
            throw ConfigurationFileError(path: path, message: "the configuration file \(reason)", fileUnreadable: true)
        }
        var configuration = try parse(text, path: path, environment: environment)
        if configuration.servers.contains(where: { $0.passwordSource == .inline }), isReadableByOthers(path) {
            configuration.warnings.append(
                "\(path) holds a password and can be read by group or others: chmod 600 it, or use password_env "
                    + "/ password_file"
            )
        }
        return configuration
    }

    package static func parse(
        _ text: String,
        path: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigurationFileError) -> DeckConfiguration {
        let table: TOMLTable
        do { table = try TOMLDocument.parse(text) } catch {
            throw ConfigurationFileError(path: path, line: error.line, message: error.message)
        }
        let lines = SourceLines(text)
        for key in table.keys where key != "server" && key != "forward" {
            throw ConfigurationFileError(
                path: path,
                line: lines.line(ofKey: key, inServer: nil),
                message: "unknown key '\(key)' (expected [[server]] and [[forward]] tables)"
            )
        }
        let forwards = try ForwardDefinition.parseAll(table["forward"], lines: lines, path: path)
        guard let entries = table["server"] else {
            try ForwardDefinition.checkServers(of: forwards, against: [], lines: lines, path: path)
            var configuration = DeckConfiguration(servers: [], path: path)
            configuration.forwards = forwards
            return configuration
        }
        guard let array = entries.array else {
            throw ConfigurationFileError(
                path: path,
                line: lines.line(ofKey: "server", inServer: nil),
                message: "'server' must be an array of tables: write [[server]]"
            )
        }
        var servers: [ServerDefinition] = []
        for (index, value) in array.enumerated() {
            guard let server = value.table else {
                throw ConfigurationFileError(
                    path: path,
                    line: lines.serverHeaders[safe: index],
                    message: "each [[server]] must be a table"
                )
            }
            let s = try parseServer(server, index: index, lines: lines, path: path, environment: environment)
            if servers.contains(where: { $0.name == s.name }) {
                throw ConfigurationFileError(
                    path: path,
                    line: lines.line(ofKey: "name", inServer: index),
                    message: "a second server is named '\(s.name)'"
                )
            }
            servers.append(s)
        }
        try ForwardDefinition.checkServers(of: forwards, against: servers, lines: lines, path: path)
        var configuration = DeckConfiguration(servers: servers, path: path)
        configuration.forwards = forwards
        return configuration
    }

    private static let knownKeys: Set<String> = [
        "name", "address", "username", "password", "password_env", "password_file", "echo", "connect_timeout_ms",
        "handshake_timeout_ms",
        "pipelining", "receive_buffer_bytes", "declare", "dns", "dns_name", "ntp", "stun", "quic",
    ]

    private static func parseServer(
        _ table: TOMLTable,
        index: Int,
        lines: SourceLines,
        path: String?,
        environment: [String: String]
    ) throws(ConfigurationFileError) -> ServerDefinition {
        func fail(_ key: String?, _ message: String) -> ConfigurationFileError {
            ConfigurationFileError(
                path: path,
                line: key.map { lines.line(ofKey: $0, inServer: index) } ?? lines.serverHeaders[safe: index],
                message: message
            )
        }
        for key in table.keys where !knownKeys.contains(key) {
            throw fail(key, "unknown key '\(key)' in [[server]] (known: \(knownKeys.sorted().joined(separator: ", ")))")
        }
        func string(_ key: String) throws(ConfigurationFileError) -> String? {
            guard let value = table[key] else { return nil }
            guard let s = value.string else { throw fail(key, "'\(key)' must be a string") }
            return s
        }
        func milliseconds(_ key: String, default value: Duration) throws(ConfigurationFileError) -> Duration {
            guard let v = table[key] else { return value }
            guard let i = v.int, (1...600_000).contains(i) else {
                throw fail(key, "'\(key)' must be a whole number of milliseconds from 1 to 600000")
            }
            return .milliseconds(i)
        }
        var pipelining = false
        if let v = table["pipelining"] {
            guard let b = v.bool else { throw fail("pipelining", "'pipelining' must be true or false") }
            pipelining = b
        }
        var receiveBuffer = ServerDefinition.defaultReceiveBufferBytes
        if let v = table["receive_buffer_bytes"] {
            guard let n = v.int, (512...65_536).contains(n) else {
                throw fail(
                    "receive_buffer_bytes",
                    "'receive_buffer_bytes' must be a whole number of bytes from 512 to 65536"
                )
            }
            receiveBuffer = n
        }
        var declare = DeclaredSource.default
        if let text = try string("declare") {
            guard let d = DeclaredSource(rawValue: text) else {
                let choices = DeclaredSource.allCases.map { "\"\($0)\"" }.joined(separator: ", ")
                throw fail("declare", "'declare' must be one of \(choices)")
            }
            declare = d
        }
        guard let name = try string("name"), !name.isEmpty else { throw fail(nil, "a [[server]] needs a name") }
        guard let address = try string("address") else {
            throw fail(nil, "server '\(name)' needs an address (host:port)")
        }
        guard let (host, port) = splitHostPort(address) else {
            throw fail(
                "address",
                "server '\(name)': '\(address)' is not host:port (an IPv6 literal goes in brackets: [::1]:1080)"
            )
        }
        var echo: IPEndpoint?
        if let e = try string("echo") {
            guard let endpoint = IPEndpoint(e) else {
                throw fail("echo", "server '\(name)': echo '\(e)' is not an IP literal with a port")
            }
            echo = endpoint
        }
        var checkTargets = CheckTargets()
        for kind in CheckTargets.configuredKinds {
            let key = kind.rawValue
            guard let text = try string(key) else { continue }
            guard let target = SOCKSAddress(destination: text, defaultPort: kind.defaultPort) else {
                throw fail(
                    key,
                    "server '\(name)': \(key) '\(text)' is not host, host:port, an IP address or [IPv6]:port"
                )
            }
            checkTargets[kind] = target
        }
        if let n = try string("dns_name") {
            do { _ = try DNSQuery(id: 1, name: n, type: .a).encoded() } catch {
                throw fail("dns_name", "server '\(name)': dns_name '\(n)': \(error)")
            }
            checkTargets.dnsName = n
        }
        var credentials: Credentials?
        var source: PasswordSource?
        let username = try string("username")
        let sources = ["password", "password_env", "password_file"].filter { table[$0] != nil }
        if sources.count > 1 {
            throw fail(sources[1], "server '\(name)': give one of password, password_env, password_file")
        }
        var unusable: String?
        if let username {
            var password: String?
            // A password that cannot be had makes this one server unusable, not the whole file:
            // the other servers, `servers` and ad-hoc addresses still work (see `unusableBecause`).
            if let variable = try string("password_env") {
                source = .environment(variable)
                if let value = environment[variable], !value.isEmpty {
                    password = value
                } else {
                    unusable = "the environment variable \(variable) (the password of user '\(username)') is not set"
                }
            } else if let file = try string("password_file") {
                source = .file(file)
                if let contents = try? String(contentsOfFile: file, encoding: .utf8) {
                    password = contents.trimmingCharacters(in: .newlines)
                } else {
                    let reason = FileManager.default.fileExists(atPath: file) ? "cannot be read" : "does not exist"
                    unusable = "the password file \(file) \(reason)"
                }
            } else if let inline = try string("password") {
                password = inline
                source = .inline
            } else {
                throw fail(
                    "username",
                    "server '\(name)': username without a password (password_env, password_file or password)"
                )
            }
            if let password {
                guard let c = Credentials(username: username, password: password) else {
                    throw fail(
                        "username",
                        "server '\(name)': username and password must each be 1 to 255 bytes (RFC 1929)"
                    )
                }
                credentials = c
            }
        } else if let first = sources.first {
            throw fail(first, "server '\(name)': a password without a username")
        }
        if pipelining && username != nil {
            throw fail(
                "pipelining",
                "server '\(name)': pipelining sends the request before the server chooses a method, so it works "
                    + "without a username only"
            )
        }
        var server = ServerDefinition(
            name: name,
            host: host,
            port: port,
            credentials: credentials,
            passwordSource: source,
            echo: echo,
            connectTimeout: try milliseconds("connect_timeout_ms", default: ServerDefinition.defaultConnectTimeout),
            handshakeTimeout: try milliseconds(
                "handshake_timeout_ms",
                default: ServerDefinition.defaultHandshakeTimeout
            ),
            pipelining: pipelining,
            receiveBufferBytes: receiveBuffer,
            declare: declare,
            configuredUsername: username,
            unusableBecause: unusable
        )
        server.checkTargets = checkTargets
        return server
    }

    static func isReadableByOthers(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        return info.st_mode & (S_IRGRP | S_IROTH) != 0
    }
}

/// TOMLKit reports lines for syntax errors only; for a value that parses but is wrong, the line
/// is found here by reading the text: the n-th [[server]] header, then the key within it.
struct SourceLines {
    let lines: [Substring]
    /// Line numbers (1-based) of each [[server]] header.
    var serverHeaders: [Int] { headers["server"] ?? [] }
    /// Line numbers of every [[NAME]] header, by NAME.
    private let headers: [String: [Int]]
    /// Every header's line, in order: a table's keys end where the next table begins.
    private let allHeaders: [Int]

    init(_ text: String) {
        lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var headers: [String: [Int]] = [:]
        var allHeaders: [Int] = []
        for (i, line) in lines.enumerated() {
            let compact = line.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: " ", with: "")
            guard compact.hasPrefix("["), compact.hasSuffix("]") else { continue }
            allHeaders.append(i + 1)
            if compact.hasPrefix("[["), compact.hasSuffix("]]") {
                headers[String(compact.dropFirst(2).dropLast(2)), default: []].append(i + 1)
            }
        }
        self.headers = headers
        self.allHeaders = allHeaders
    }

    func line(ofKey key: String, inServer index: Int?) -> Int? { line(ofKey: key, inTable: "server", index) }

    /// The line of `key` in the `index`-th [[table]] (at the top of the file when `index` is nil).
    func line(ofKey key: String, inTable table: String, _ index: Int?) -> Int? {
        let header = index.flatMap { headers[table]?[safe: $0] }
        let start = header ?? 0
        let end = allHeaders.first { $0 > start } ?? (lines.count + 1)
        for number in (start + 1)..<max(end, start + 1) where number <= lines.count {
            let line = lines[number - 1].trimmingCharacters(in: .whitespaces)
            if line.hasPrefix(key + " ") || line.hasPrefix(key + "=") || line.hasPrefix("[\(key)")
                || line.hasPrefix("[[\(key)")
            {
                return number
            }
        }
        return header
    }

    func header(of table: String, _ index: Int) -> Int? { headers[table]?[safe: index] }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
