import Foundation
import SocksDeckEngine

/// The detail pane's lines, kept from one frame to the next: the controller measures them (to stop
/// scrolling at the end) and the pane draws them, ten times a second, and building them (64
/// recent datagrams in hex, wrapped) was a tenth of the UI's CPU. They are built again when the
/// association changes (its revision), when the width or its checks do, and each second, as
/// its age and rates move with the clock, when the forward flow it carries changes, and when
/// its probe starts or stops losing (the state's colour).
struct DetailLines: Sendable {
    private struct Key: Equatable {
        var id: AssociationID
        var revision: UInt64
        var recent: Int
        var width: Int
        var checks: Int
        var running: String?
        var flow: CarriedFlow?
        var losing: Bool
        var second: Int
    }

    private var key: Key?
    private var lines: [(String, Role)] = []

    private static func key(
        _ a: AssociationSnapshot,
        _ width: Int,
        _ checks: [CheckResult],
        _ running: String?,
        _ flow: CarriedFlow?,
        _ losing: Bool
    ) -> Key {
        Key(
            id: a.id,
            revision: a.revision,
            recent: a.recent.count,
            width: width,
            checks: checks.count,
            running: running,
            flow: flow,
            losing: losing,
            second: Int(Date().timeIntervalSince1970)
        )
    }

    /// The lines, built only when what they show has changed.
    mutating func lines(
        for a: AssociationSnapshot,
        width: Int,
        checks: [CheckResult],
        running: String?,
        flow: CarriedFlow?,
        losing: Bool
    ) -> [(String, Role)] {
        let current = Self.key(a, width, checks, running, flow, losing)
        if current != key {
            lines = DetailPane.lines(for: a, width: width, checks: checks, running: running, flow: flow, losing: losing)
            key = current
        }
        return lines
    }

    /// The lines kept, when they still show `a` as it is (for the pane, which draws read-only).
    func kept(
        for a: AssociationSnapshot,
        width: Int,
        checks: [CheckResult],
        running: String?,
        flow: CarriedFlow?,
        losing: Bool
    ) -> [(String, Role)]? {
        key == Self.key(a, width, checks, running, flow, losing) ? lines : nil
    }
}
