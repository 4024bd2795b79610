import Foundation

extension CapabilityProbe {
    /// A few words for a status line or a table cell, from the findings' keys, verdicts and
    /// figures (never from their words): UDP and what the data plane did, source locking, the
    /// payload limit.
    package static func summary(_ findings: [ProbeFinding]) -> String {
        let f = Dictionary(findings.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        if f[.unreachable] != nil { return "unreachable" }
        guard f[.udpAssociate]?.verdict == .yes else { return "no UDP (\(f[.udpAssociate]?.value ?? "?"))" }
        var parts: [String]
        switch f[.relayEcho]?.verdict {
        case .yes?: parts = ["UDP ✔ relayed"]
        case .no?: parts = ["UDP accepted, nothing came back"]
        default: parts = ["UDP accepted, relay not tried (no echo target)"]
        }
        if f[.relayEcho]?.verdict == .yes, f[.declaredZeroRelayed]?.verdict == .no {
            parts.append("replies to declared port only")
        }
        if let lock = f[.sourcePortLocking], lock.verdict != .skipped {
            parts.append(lock.verdict == .yes ? "port-locked" : "no port lock")
        }
        if let cut = f[.truncation], cut.verdict == .yes, let n = cut.figure {
            parts.append("cuts to \(n) B")
        } else if let largest = f[.largestPayload]?.figure {
            parts.append(largest >= 65_000 ? "max 65000+ B" : "max \(largest) B")
        }
        if let keeps = f[.serverKeepsControl], keeps.verdict == .no { parts.append("server hangs up after the grant") }
        if let dies = f[.relayDiesWithControl], dies.verdict == .no { parts.append("relay outlives control") }
        return parts.joined(separator: ", ")
    }
}
