import Foundation
import Socks5

/// One thing learnt about a server, with the evidence behind it.
public struct ProbeFinding: Sendable, Equatable, Codable {
    public enum Verdict: String, Sendable, Codable { case yes, no, info, skipped }

    /// What a finding is about: a stable name for scripts (`"udp_associate"` in JSON) and the one
    /// thing summaries and front ends match on, never the finding's words.
    public struct Key: RawRepresentable, Hashable, Sendable, Codable, ExpressibleByStringLiteral,
        CustomStringConvertible
    {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { rawValue = value }
        public init(from decoder: any Decoder) throws {
            rawValue = try decoder.singleValueContainer().decode(String.self)
        }
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(rawValue)
        }
        public var description: String { rawValue }

        public static let unreachable: Key = "unreachable"
        public static let methodNone: Key = "method_none"
        public static let methodUserPass: Key = "method_userpass"
        public static let udpAssociate: Key = "udp_associate"
        public static let bndForm: Key = "bnd_form"
        public static let setupTime: Key = "setup_time"
        /// UDP ASSOCIATE asking for the family the control connection is not.
        public static func udpAssociate(asking family: AddressFamily) -> Key {
            family == .ipv6 ? "udp_associate_ipv6" : "udp_associate_ipv4"
        }
        public static let connect: Key = "connect"
        public static let bind: Key = "bind"
        /// The relay checks as a whole, when they are skipped.
        public static let relay: Key = "relay"
        public static let relayEcho: Key = "relay_echo"
        /// Whether anything answers at the rendezvous, asked when nothing was echoed (RendezvousCheck).
        public static let rendezvousAnswers: Key = "rendezvous_answers"
        public static let declaredZeroRelayed: Key = "declared_zero_relayed"
        public static let sourcePortLocking: Key = "source_port_locking"
        public static let fragmentsDropped: Key = "frag_dropped"
        public static let largestPayload: Key = "largest_payload"
        public static let truncation: Key = "truncation"
        public static let relayDiesWithControl: Key = "relay_dies_with_control"
        /// Whether the server kept the control connection open after granting UDP ASSOCIATE.
        public static let serverKeepsControl: Key = "server_keeps_control"
        /// The checks with real services (`probe --check`), as a whole and one by one.
        public static let checks: Key = "checks"
        public static func check(_ name: String) -> Key { Key(rawValue: "check_\(name)") }
    }

    public var key: Key
    public var title: String
    public var verdict: Verdict
    /// The answer in a few words: "REP 7: command not supported", "2739 bytes".
    public var value: String
    /// What was sent and seen.
    public var evidence: String
    /// The finding's number, where it has one (bytes for the payload findings), so that
    /// summaries are made from values, never from the words above.
    public var figure: Int?

    public init(key: Key, title: String, verdict: Verdict, value: String, evidence: String, figure: Int? = nil) {
        self.key = key
        self.title = title
        self.verdict = verdict
        self.value = value
        self.evidence = evidence
        self.figure = figure
    }
}
