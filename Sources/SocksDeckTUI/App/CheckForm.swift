import Socks5
import SocksDeckEngine
import UDPChecks

/// The form `c` opens on an association: which check (DNS, NTP, STUN, NAT behaviour, QUIC), where
/// to (prefilled from the server's dns/ntp/stun/quic settings), and for DNS the name and type.
struct CheckForm: Equatable, Sendable {
    var fields: FormFields
    /// The server's configured targets, which prefill the target for each kind.
    let configured: CheckTargets

    static let kinds = CheckKind.allCases.map(\.rawValue)
    static let kind = 0, target = 1, name = 2, type = 3

    /// The association the form was opened on: Enter runs the check through it, whichever row
    /// is selected by then.
    var association: AssociationID?

    init(server: ServerDefinition?, kind: CheckKind = .dns, association: AssociationID? = nil) {
        self.association = association
        configured = server?.checkTargets ?? CheckTargets()
        fields = FormFields(
            names: ["check", "target", "name (DNS)", "type (DNS)"],
            values: [kind.rawValue, "", configured.dnsName ?? "example.com", "A"],
            choices: [Self.kind: Self.kinds]
        )
        fields.set(Self.target, configured[kind]?.description ?? "")
        // On the check's kind: Space and ←/→ go through the checks, as the form's footer says.
        fields.focus(Self.kind)
    }

    /// The kind the form shows (its choices are CheckKind's words).
    var chosenKind: CheckKind { CheckKind(rawValue: fields.values[Self.kind]) ?? .dns }

    mutating func handle(_ key: Key) -> FormFields.Outcome {
        let before = chosenKind
        let outcome = fields.handle(key)
        if chosenKind != before {
            fields.set(Self.target, configured[chosenKind]?.description ?? "")
        }
        return outcome
    }

    /// The check the form describes, or nil with the wrong field marked.
    mutating func validate() -> ServiceCheck? {
        let kind = chosenKind
        let text = fields.values[Self.target].trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else {
            fields.refuse(
                Self.target,
                "where to: host, host:port or [IPv6]:port (set \(kind.targetKind) for the server to prefill it)"
            )
            return nil
        }
        guard let target = kind.target(text) else {
            fields.refuse(Self.target, "'\(text)' is not host, host:port, an IP address or [IPv6]:port")
            return nil
        }
        switch kind {
        case .dns:
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
        case .ntp:
            fields.clearProblem()
            return .ntp(server: target)
        case .stun:
            fields.clearProblem()
            return .stun(server: target)
        case .quic:
            fields.clearProblem()
            return .quic(server: target)
        case .nat:
            fields.clearProblem()
            return .nat(server: target)
        }
    }
}
