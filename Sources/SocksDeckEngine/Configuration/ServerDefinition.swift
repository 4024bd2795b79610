import Foundation
import Socks5

/// Where a password comes from. The password itself is only ever held in `Credentials`, which
/// never prints it.
package enum PasswordSource: Sendable, Equatable, CustomStringConvertible {
    case environment(String)
    case file(String)
    case inline
    /// Given with the server on the command line (socks5://user:password@host:port).
    case commandLine

    package var description: String {
        switch self {
        case .environment(let name): "environment variable \(name)"
        case .file(let path): "file \(path)"
        case .inline: "inline in the configuration"
        case .commandLine: "command line"
        }
    }
}

/// One SOCKS5 server as configured: what the engine needs to open associations through it.
package struct ServerDefinition: Sendable, Equatable {
    package var name: String
    /// The host as written, without the port: "127.0.0.1", "::1", "proxy.example".
    package var host: String
    package var port: UInt16
    package var credentials: Credentials?
    package var passwordSource: PasswordSource?
    /// A UDP echo target for health probes.
    package var echo: IPEndpoint?
    /// How long the TCP connect to the server may take (`connect_timeout_ms`).
    package var connectTimeout: Duration
    /// How long each handshake message may take to come (`handshake_timeout_ms`).
    package var handshakeTimeout: Duration
    /// Send the UDP ASSOCIATE request with the greeting (no credentials only): one round trip
    /// fewer per association, for servers that read past the greeting (Dante, microsocks and
    /// `socksdeck serve` do). Off unless the configuration says `pipelining = true`.
    package var pipelining: Bool
    /// The data socket's receive buffer, in bytes. Each association with traffic keeps one
    /// (SwiftNIO pools it per socket), so it sets most of the memory an association costs:
    /// 64 KiB by default, 2 KiB for thousands of associations with small datagrams. A datagram
    /// that fills the buffer may have been cut by the kernel, so datagrams of this size or
    /// larger are dropped as oversize, never delivered cut: the default takes every datagram
    /// UDP can carry (65,535 bytes at most).
    package var receiveBufferBytes: Int
    /// What UDP ASSOCIATE declares as DST (`declare = "zero" | "port" | "address"`): by default
    /// the data socket's port, which servers that reply only to the declared address need.
    package var declare: DeclaredSource
    /// Where the protocol checks go by default for this server.
    package var checkTargets = CheckTargets()
    /// The username the configuration gives, even when its password could not be had.
    package var configuredUsername: String?
    /// Why this server cannot be used as configured (its password's environment variable is not
    /// set, its password file is missing), or nil. Only what needs this server fails on it.
    package var unusableBecause: String?

    package static let defaultReceiveBufferBytes = 65_536
    package static let defaultConnectTimeout = Duration.seconds(5)
    package static let defaultHandshakeTimeout = Duration.seconds(10)

    package init(
        name: String,
        host: String,
        port: UInt16,
        credentials: Credentials? = nil,
        passwordSource: PasswordSource? = nil,
        echo: IPEndpoint? = nil,
        connectTimeout: Duration = defaultConnectTimeout,
        handshakeTimeout: Duration = defaultHandshakeTimeout,
        pipelining: Bool = false,
        receiveBufferBytes: Int = defaultReceiveBufferBytes,
        declare: DeclaredSource = .default,
        configuredUsername: String? = nil,
        unusableBecause: String? = nil
    ) {
        self.name = name
        self.host = host
        self.port = port
        self.credentials = credentials
        self.passwordSource = passwordSource
        self.echo = echo
        self.connectTimeout = connectTimeout
        self.handshakeTimeout = handshakeTimeout
        self.pipelining = pipelining
        self.receiveBufferBytes = receiveBufferBytes
        self.declare = declare
        self.configuredUsername = configuredUsername ?? credentials.map { String(decoding: $0.username, as: UTF8.self) }
        self.unusableBecause = unusableBecause
    }

    /// "host:port" with brackets for IPv6 literals.
    package var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// How long an association opened through this server may take to settle (associated or
    /// failed): its connect and handshake timeouts, and a second for the rest. Whoever waits for
    /// one asks here.
    package var settleBound: Duration {
        connectTimeout + handshakeTimeout + .seconds(1)
    }

    package var username: String? { configuredUsername }

    /// "none" or "username/password (user)", and why it cannot be used when it cannot.
    package var authenticationSummary: String {
        guard let user = username else { return "none" }
        return "username/password (\(user))" + (unusableBecause.map { " - unusable: \($0)" } ?? "")
    }

    /// A server given on the command line: "host:port", "[v6]:port",
    /// "socks5://host:port", "socks5://user@host:port" (password from SOCKS_PASSWORD), or
    /// "socks5://user:password@host:port"; the user part also without "socks5://". Without a
    /// user, SOCKS_USERNAME and SOCKS_PASSWORD give the credentials when they are set, as for the
    /// C API.
    package static func adHoc(
        _ text: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigurationFileError) -> ServerDefinition {
        var rest = Substring(text)
        let isURL = rest.hasPrefix("socks5://") || rest.hasPrefix("socks5h://")
        if isURL { rest = rest[rest.index(after: rest.firstIndex(of: "/")!)...].dropFirst() }
        var credentials: Credentials?
        var source: PasswordSource?
        // With or without the scheme: an '@' never belongs in host:port, so "user@host:port" can
        // only mean the URL's user (typed without socks5://, it used to become part of a host name).
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            let parts = userInfo.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let user = String(parts[0]).removingPercentEncoding ?? String(parts[0])
            let password: String?
            if parts.count == 2 {
                password = String(parts[1]).removingPercentEncoding ?? String(parts[1])
                source = .commandLine
            } else {
                password = environment["SOCKS_PASSWORD"]
                source = .environment("SOCKS_PASSWORD")
            }
            guard let password else {
                throw ConfigurationFileError(
                    message:
                        "\(text): no password for user '\(user)': set SOCKS_PASSWORD or write "
                        + "socks5://user:password@host:port"
                )
            }
            guard let c = Credentials(username: user, password: password) else {
                throw ConfigurationFileError(
                    message: "\(text): username and password must each be 1 to 255 bytes (RFC 1929)"
                )
            }
            credentials = c
        }
        if credentials == nil, let user = environment["SOCKS_USERNAME"], !user.isEmpty {
            // As the C API and Dante's socksify do: a server given without a user takes
            // SOCKS_USERNAME and SOCKS_PASSWORD from the environment.
            guard let password = environment["SOCKS_PASSWORD"] else {
                throw ConfigurationFileError(message: "SOCKS_USERNAME is set (to '\(user)') but SOCKS_PASSWORD is not")
            }
            guard let c = Credentials(username: user, password: password) else {
                throw ConfigurationFileError(
                    message: "SOCKS_USERNAME and SOCKS_PASSWORD must each be 1 to 255 bytes (RFC 1929)"
                )
            }
            credentials = c
            source = .environment("SOCKS_PASSWORD")
        }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard let (host, port) = splitHostPort(String(rest)) else {
            throw ConfigurationFileError(
                message: "'\(text)' is not host:port ([IPv6]:port, or [socks5://][user@]host:port)"
            )
        }
        return ServerDefinition(
            name: String(rest),
            host: host,
            port: port,
            credentials: credentials,
            passwordSource: source
        )
    }
}

/// Splits "host:port" and "[v6]:port"; nil when the port is missing or not 1...65535.
func splitHostPort(_ text: String) -> (String, UInt16)? {
    if text.hasPrefix("[") {
        guard let close = text.firstIndex(of: "]"),
            IPv6Address(String(text[text.index(after: text.startIndex)..<close])) != nil
        else { return nil }
        let rest = text[text.index(after: close)...]
        guard rest.hasPrefix(":"), let port = UInt16(rest.dropFirst()), port > 0 else { return nil }
        return (String(text[text.index(after: text.startIndex)..<close]), port)
    }
    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 2, !parts[0].isEmpty, let port = UInt16(parts[1]), port > 0 else { return nil }
    return (String(parts[0]), port)
}

/// A configuration that cannot be used: the file, the line (when known) and the problem.
package struct ConfigurationFileError: Error, Sendable, Equatable, CustomStringConvertible {
    package var path: String?
    package var line: Int?
    package var message: String
    /// The file itself is missing or unreadable (an input problem, EX_NOINPUT), rather than a
    /// file whose content is wrong (EX_CONFIG).
    package var fileUnreadable: Bool

    package init(path: String? = nil, line: Int? = nil, message: String, fileUnreadable: Bool = false) {
        self.path = path
        self.line = line
        self.message = message
        self.fileUnreadable = fileUnreadable
    }

    package var description: String {
        switch (path, line) {
        case (let p?, let l?): "\(p):\(l): \(message)"
        case (let p?, nil): "\(p): \(message)"
        default: message
        }
    }
}
