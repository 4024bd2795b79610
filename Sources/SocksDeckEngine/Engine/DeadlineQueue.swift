import NIOCore

/// Elements in deadline order, earliest first; elements due at the same time stay in the order
/// they were inserted. Made for ProbeClock, whose re-queued probes almost always go at the end:
/// that case is an append, which allocates nothing once the buffer has grown. NIO's
/// `CircularBuffer.insert(_:at:)` rebuilds the whole buffer wherever it inserts, even at the
/// end, which with a thousand probes copied (and retained) a thousand entries per probe sent:
/// more than half of the engine's CPU at 1,000 probes a second.
struct DeadlineQueue<Element> {
    private var entries = CircularBuffer<(due: NIODeadline, element: Element)>()

    var isEmpty: Bool { entries.isEmpty }
    var count: Int { entries.count }

    /// The earliest deadline, if any.
    var firstDue: NIODeadline? { entries.first?.due }

    /// Takes the earliest element if it is due by `now`.
    mutating func popFirst(dueBy now: NIODeadline) -> (due: NIODeadline, element: Element)? {
        guard let first = entries.first, first.due <= now else { return nil }
        return entries.removeFirst()
    }

    /// After every element due no later than `due`, searched from the end, where a re-queued
    /// element belongs.
    mutating func insert(_ element: Element, due: NIODeadline) {
        var index = entries.endIndex
        while index > entries.startIndex, entries[entries.index(before: index)].due > due {
            index = entries.index(before: index)
        }
        if index == entries.endIndex {
            entries.append((due, element))
        } else {
            entries.insert((due, element), at: index)
        }
    }
}
