import Socks5
import SocksDeckEngine

/// The form that adds a server from the TUI, or edits one: the address as people write it
/// (socks5://[user@]host:port, host:port, [IPv6]:port), the password with echo off, an echo
/// target, a name, and whether to save it to the configuration file (asked once more before
/// the file is written).
struct ServerForm: Equatable, Sendable {
    enum Mode: Equatable, Sendable {
        case add
        /// Editing the server of this name.
        case edit(String)
    }

    let mode: Mode
    var fields: FormFields
    /// Whether the server was in the configuration file (an edit then offers to save there too).
    let fromFile: Bool

    static let address = 0, password = 1, echo = 2, name = 3, save = 4

    init(mode: Mode, server: ServerDefinition? = nil, fromFile: Bool = false) {
        self.mode = mode
        self.fromFile = fromFile
        var address = server.map { s in s.username.map { "socks5://\($0)@\(s.address)" } ?? s.address } ?? "socks5://"
        if server?.credentials == nil, server?.username == nil, address.isEmpty { address = "socks5://" }
        fields = FormFields(
            names: ["address", "password", "echo target", "name", "save to file (y/n)"],
            values: [address, "", server?.echo?.description ?? "", server?.name ?? "", "n"],
            toggles: [Self.save],
            secrets: [Self.password]
        )
        fields.focus(Self.address)
    }

    var saveToFile: Bool { fields.isOn(Self.save) }

    mutating func handle(_ key: Key) -> FormFields.Outcome { fields.handle(key) }

    /// The server the form describes, or nil with the first wrong field marked. `existing`: the
    /// names already taken (a new name must be new; an edit may keep its own). `kept`: the server
    /// being edited, whose password stays when none is typed.
    mutating func validate(existing: [String], kept: ServerDefinition? = nil) -> ServerDefinition? {
        let text = fields.values[Self.address].trimmingCharacters(in: .whitespaces)
        let typed = fields.values[Self.password]
        // The password typed here, never the environment's: what is on the screen is what is used.
        var environment: [String: String] = [:]
        if !typed.isEmpty { environment["SOCKS_PASSWORD"] = typed }
        var server: ServerDefinition
        do {
            server = try ServerDefinition.adHoc(text, environment: environment)
        } catch {
            let hasUser = text.contains("@")
            if hasUser && typed.isEmpty, kept?.credentials == nil {
                fields.refuse(Self.password, "the user needs a password")
            } else {
                fields.refuse(Self.address, error.message)
            }
            return nil
        }
        if text.contains("@"), typed.isEmpty, let kept, kept.username == server.username {
            server.credentials = kept.credentials
            server.passwordSource = kept.passwordSource
        }
        if !typed.isEmpty, server.credentials == nil {
            fields.refuse(Self.password, "a password needs a user: socks5://user@host:port")
            return nil
        }
        if server.credentials != nil, typed.isEmpty == false { server.passwordSource = .commandLine }
        let echoText = fields.values[Self.echo].trimmingCharacters(in: .whitespaces)
        if !echoText.isEmpty {
            guard let echo = IPEndpoint(echoText) else {
                fields.refuse(Self.echo, "'\(echoText)' is not an IP address with a port: 127.0.0.1:7 or [::1]:7")
                return nil
            }
            server.echo = echo
        }
        let name = fields.values[Self.name].trimmingCharacters(in: .whitespaces)
        if !name.isEmpty { server.name = name }
        let own: String? = if case .edit(let n) = mode { n } else { nil }
        if server.name != own, existing.contains(server.name) {
            fields.refuse(Self.name, "a server is named '\(server.name)' already")
            return nil
        }
        if let kept {
            server.connectTimeout = kept.connectTimeout
            server.handshakeTimeout = kept.handshakeTimeout
            server.pipelining = kept.pipelining && server.credentials == nil
            server.receiveBufferBytes = kept.receiveBufferBytes
            server.declare = kept.declare
        }
        fields.clearProblem()
        return server
    }
}
