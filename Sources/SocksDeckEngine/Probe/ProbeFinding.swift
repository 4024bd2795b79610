import Foundation

/// One thing learnt about a server, with the evidence behind it.
public struct ProbeFinding: Sendable, Equatable, Codable {
    public enum Verdict: String, Sendable, Codable { case yes, no, info, skipped }
    /// A stable key for scripts: "udp_associate", "source_port_locking"…
    public var key: String
    public var title: String
    public var verdict: Verdict
    /// The answer in a few words: "REP 7: command not supported", "2739 bytes".
    public var value: String
    /// What was sent and seen.
    public var evidence: String
    /// The finding's number, where it has one (bytes for the payload findings), so that
    /// summaries are made from values, never from the words above.
    public var figure: Int?

    public init(key: String, title: String, verdict: Verdict, value: String, evidence: String, figure: Int? = nil) {
        self.key = key
        self.title = title
        self.verdict = verdict
        self.value = value
        self.evidence = evidence
        self.figure = figure
    }
}
