import SocksDeckEngine

/// What each server was last seen to do with a UDP ASSOCIATE, kept after the association that
/// showed it leaves the list: removing a closed row forgets the row, not what it taught.
struct LearnedCapabilities: Sendable {
    private struct Outcome: Sendable {
        var from: AssociationID
        var capability: ServerCapability
    }

    private var byServer: [String: Outcome] = [:]

    /// After new snapshots: a server's newest outcome replaces what an older association taught.
    mutating func learn(from tallies: [String: ServerTally]) {
        for (server, tally) in tallies {
            guard let (from, capability) = tally.newestOutcome else { continue }
            if let known = byServer[server], known.from > from { continue }
            byServer[server] = Outcome(from: from, capability: capability)
        }
    }

    subscript(server: String) -> ServerCapability { byServer[server]?.capability ?? .unknown }

    /// A server taken off the list: whatever comes next under its name starts untried.
    mutating func forget(_ server: String) { byServer[server] = nil }
}

extension ServerCapability {
    /// What an association's outcome says of its server; nil when it says nothing (still
    /// opening, or closed before the server answered).
    init?(outcome a: AssociationSnapshot) {
        switch a.state {
        case .associated: self = .udpWorks
        case .closed where a.rendezvous != nil: self = .udpWorks
        case .failed(let f) where f.code == .commandNotSupported: self = .refused("REP 7: no UDP")
        case .failed(let f) where f.code == nil: self = .unreachable(f.name)
        case .failed(let f): self = .refused(f.name)
        default: return nil
        }
    }
}
