import Foundation
import SocksDeckEngine

/// What the colour of an association's state says: its health, decided here once for the
/// Associations pane's STATE cell and the Detail pane's state line alike.
enum AssociationHealth {
    /// Associated and answering (or not probed): ok. Associated but its probe is losing or has gone
    /// silent: warning, though the control connection still looks fine. Failed, or closed by the
    /// server: error, the proxy's news. Closed by the user or by SocksDeck: muted, nothing went
    /// wrong. Still opening: warning. `losing` is whether the probe counted a loss lately
    /// (`ProbeLosses`), which one snapshot cannot tell.
    static func role(_ a: AssociationSnapshot, losing: Bool, now: Date = Date()) -> Role {
        switch a.state {
        case .associated:
            // A stopped probe's figures only age: the user stopped it, the path did not.
            guard let probe = a.probe, probe.running else { return .ok }
            return losing || probe.isSilent(at: now) ? .warning : .ok
        case .failed: return .error
        case .closed: return a.closedBy == .server ? .error : .muted
        default: return .warning
        }
    }
}

extension DeckModel {
    /// `a`'s health, with what the model remembers of its probe's losses.
    func health(of a: AssociationSnapshot, now: Date = Date()) -> Role {
        AssociationHealth.role(a, losing: probeLosses.recent(a.id, now: now), now: now)
    }
}
