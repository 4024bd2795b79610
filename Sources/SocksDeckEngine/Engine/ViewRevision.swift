import Synchronization

/// A number that grows with every change an `EngineView` would show: an association's
/// snapshot, the set of associations, the log. Read from any thread without visiting the loop,
/// so that a screen with nothing new to show does not wait for the loop ten times a second
/// (that wait and its wake-ups were most of an idle frame).
///
/// Ages and rates are not changes: readers compute them from the time (`AssociationSnapshot.age`,
/// `RateMeter.perSecond`), so a view kept while the revision stands still stays right.
final class ViewRevision: Sendable {
    private let count = Atomic<UInt64>(0)

    /// Called on the loop with each change. A reader who saw the new value and then asks for a
    /// view sees the change: the view is read on the loop, after the job that made it.
    func advance() { count.add(1, ordering: .releasing) }

    var value: UInt64 { count.load(ordering: .acquiring) }
}
