import Socks5
import SocksDeckEngine
import UDPChecks

/// The form `F` opens on a server: where to listen and where to send, as `socksdeck forward`
/// takes them (LOCAL=TARGET). It keeps the server it was opened on: Enter starts the forward
/// through that one, whatever the Servers pane selects by then.
struct ForwardForm: Equatable, Sendable {
    let server: ServerDefinition
    var fields: FormFields

    static let local = 0, target = 1

    /// The target is prefilled with the server's DNS server (its `dns` setting), the first thing
    /// people forward.
    init(server: ServerDefinition) {
        self.server = server
        let dns = server.checkTargets.dns
        fields = FormFields(names: ["local address", "target"], values: ["127.0.0.1:", dns?.description ?? ""])
        fields.focus(Self.local)
    }

    mutating func handle(_ key: Key) -> FormFields.Outcome { fields.handle(key) }

    /// The forward the form describes, or nil with the wrong field marked in ForwardSpec's words.
    mutating func validate() -> ForwardSpec? {
        let local = fields.values[Self.local].trimmingCharacters(in: .whitespaces)
        let target = fields.values[Self.target].trimmingCharacters(in: .whitespaces)
        for (field, text) in [(Self.local, local), (Self.target, target)] where text.contains("=") {
            fields.refuse(field, "no '=' here: the local address and the target each have a field")
            return nil
        }
        do {
            let spec = try ForwardSpec(parsing: "\(local)=\(target)")
            fields.clearProblem()
            return spec
        } catch {
            // The reason names the part that is wrong (LOCAL or TARGET): the field it belongs to.
            fields.refuse(error.reason.hasPrefix("TARGET") ? Self.target : Self.local, error.reason)
            return nil
        }
    }
}
