import Foundation
import Socks5

/// One thing learnt about a server, with the evidence behind it.
package struct ProbeFinding: Sendable, Equatable, Codable {
    package enum Verdict: String, Sendable, Codable { case yes, no, info, skipped }

    /// What a finding is about: a stable name for scripts (`"udp_associate"` in JSON) and the one
    /// thing summaries and front ends match on, never the finding's words.
    package struct Key: RawRepresentable, Hashable, Sendable, Codable, ExpressibleByStringLiteral,
        CustomStringConvertible
    {
        package var rawValue: String
        package init(rawValue: String) { self.rawValue = rawValue }
        package init(stringLiteral value: String) { rawValue = value }
        package init(from decoder: any Decoder) throws {
            rawValue = try decoder.singleValueContainer().decode(String.self)
        }
        package func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(rawValue)
        }
        package var description: String { rawValue }

        package static let unreachable: Key = "unreachable"
        package static let methodNone: Key = "method_none"
        package static let methodUserPass: Key = "method_userpass"
        package static let udpAssociate: Key = "udp_associate"
        package static let bndForm: Key = "bnd_form"
        package static let setupTime: Key = "setup_time"
        /// UDP ASSOCIATE asking for the family the control connection is not.
        package static func udpAssociate(asking family: AddressFamily) -> Key {
            family == .ipv6 ? "udp_associate_ipv6" : "udp_associate_ipv4"
        }
        package static let connect: Key = "connect"
        package static let bind: Key = "bind"
        /// The relay checks as a whole, when they are skipped.
        package static let relay: Key = "relay"
        package static let relayEcho: Key = "relay_echo"
        /// Whether anything answers at the rendezvous, asked when nothing was echoed (RendezvousCheck).
        package static let rendezvousAnswers: Key = "rendezvous_answers"
        package static let declaredZeroRelayed: Key = "declared_zero_relayed"
        package static let sourcePortLocking: Key = "source_port_locking"
        package static let fragmentsDropped: Key = "frag_dropped"
        package static let largestPayload: Key = "largest_payload"
        package static let truncation: Key = "truncation"
        package static let relayDiesWithControl: Key = "relay_dies_with_control"
        /// Whether the server kept the control connection open after granting UDP ASSOCIATE.
        package static let serverKeepsControl: Key = "server_keeps_control"
        /// The checks with real services (`probe --check`), as a whole and one by one.
        package static let checks: Key = "checks"
        package static func check(_ kind: CheckKind) -> Key { Key(rawValue: "check_\(kind)") }
    }

    package var key: Key
    package var title: String
    package var verdict: Verdict
    /// The answer in a few words: "REP 7: command not supported", "2739 bytes".
    package var value: String
    /// What was sent and seen.
    package var evidence: String
    /// The finding's number, where it has one (bytes for the payload findings), so that
    /// summaries are made from values, never from the words above.
    package var figure: Int?

    package init(key: Key, title: String, verdict: Verdict, value: String, evidence: String, figure: Int? = nil) {
        self.key = key
        self.title = title
        self.verdict = verdict
        self.value = value
        self.evidence = evidence
        self.figure = figure
    }
}
