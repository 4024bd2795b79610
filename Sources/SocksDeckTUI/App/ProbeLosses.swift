import Foundation
import SocksDeckEngine

/// When each association's probe last counted a loss. The engine counts losses from the probe's
/// start, so one lost an hour ago would colour the state for ever; the screen asks whether the
/// probe is losing now, and remembers when each count last grew.
struct ProbeLosses: Sendable, Equatable {
    /// A loss colours the state this long after it was seen: several probe intervals, so steady
    /// loss stays coloured, and a path that recovered looks well again within seconds.
    static let recentFor: TimeInterval = 10

    private struct Seen: Sendable, Equatable {
        var lost: Int
        var at: Date
    }

    /// Only the associations whose probe lost something: few, even among thousands.
    private var seen: [AssociationID: Seen] = [:]

    /// After new snapshots: a count that changed is a loss seen now; ids gone are dropped.
    mutating func update(_ associations: [AssociationSnapshot], now: Date = Date()) {
        var next: [AssociationID: Seen] = [:]
        for a in associations {
            guard let lost = a.probe?.lost, lost > 0 else { continue }
            let at = seen[a.id].flatMap { $0.lost == lost ? $0.at : nil } ?? now
            next[a.id] = Seen(lost: lost, at: at)
        }
        seen = next
    }

    /// Whether `id`'s probe counted a loss within `recentFor`.
    func recent(_ id: AssociationID, now: Date = Date()) -> Bool {
        seen[id].map { now.timeIntervalSince($0.at) <= Self.recentFor } ?? false
    }
}
