import Socks5
import SocksDeckEngine
import UDPChecks

/// The form `c` opens on an association: which check (DNS, NTP, STUN, NAT behaviour, QUIC), where
/// to (prefilled from the server's dns/ntp/stun/quic settings), and for DNS the name and type.
struct CheckForm: Equatable, Sendable {
    var fields: FormFields
    /// The server's configured targets, by kind ("dns", "ntp", "stun").
    let configured: [String: String]

    static let kinds = ["dns", "ntp", "stun", "nat", "quic"]
    static let kind = 0, target = 1, name = 2, type = 3

    /// The association the form was opened on: Enter runs the check through it, whichever row
    /// is selected by then.
    var association: AssociationID?

    init(server: ServerDefinition?, kind: String = "dns", association: AssociationID? = nil) {
        self.association = association
        configured = server?.checkTargets ?? [:]
        fields = FormFields(
            names: ["check", "target", "name (DNS)", "type (DNS)"],
            values: [kind, "", server?.checkTargets["dns_name"] ?? "example.com", "A"],
            choices: [Self.kind: Self.kinds]
        )
        fields.set(Self.target, Self.prefill(kind, configured))
        // On the check's kind: Space and ←/→ go through the checks, as the form's footer says.
        fields.focus(Self.kind)
    }

    static func prefill(_ kind: String, _ configured: [String: String]) -> String {
        configured[kind == "nat" ? "stun" : kind] ?? ""
    }

    mutating func handle(_ key: Key) -> FormFields.Outcome {
        let before = fields.values[Self.kind]
        let outcome = fields.handle(key)
        if fields.values[Self.kind] != before {
            fields.set(Self.target, Self.prefill(fields.values[Self.kind], configured))
        }
        return outcome
    }

    /// The check the form describes, or nil with the wrong field marked.
    mutating func validate() -> ServiceCheck? {
        let kind = fields.values[Self.kind]
        let port =
            switch kind {
            case "dns": ServiceCheck.defaultDNSPort
            case "ntp": ServiceCheck.defaultNTPPort
            case "quic": ServiceCheck.defaultQUICPort
            default: ServiceCheck.defaultSTUNPort
            }
        let text = fields.values[Self.target].trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else {
            fields.refuse(
                Self.target,
                "where to: host, host:port or [IPv6]:port (set \(kind == "nat" ? "stun" : kind) for the server "
                    + "to prefill it)"
            )
            return nil
        }
        guard let target = ServiceCheck.destination(text, defaultPort: port) else {
            fields.refuse(Self.target, "'\(text)' is not host, host:port, an IP address or [IPv6]:port")
            return nil
        }
        switch kind {
        case "dns":
            guard let type = DNSRecordType(name: fields.values[Self.type]) else {
                fields.refuse(Self.type, "a record type: A, AAAA, TXT, MX, … or a number")
                return nil
            }
            let name = fields.values[Self.name].trimmingCharacters(in: .whitespaces)
            do { _ = try DNSQuery(id: 1, name: name, type: type).encoded() } catch {
                fields.refuse(Self.name, "\(error)")
                return nil
            }
            fields.clearProblem()
            return .dns(resolver: target, name: name, type: type)
        case "ntp":
            fields.clearProblem()
            return .ntp(server: target)
        case "stun":
            fields.clearProblem()
            return .stun(server: target)
        case "quic":
            fields.clearProblem()
            return .quic(server: target)
        default:
            fields.clearProblem()
            return .nat(server: target)
        }
    }
}
