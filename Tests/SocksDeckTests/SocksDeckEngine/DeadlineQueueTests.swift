import AllocationCounter
import NIOCore
import Testing

@testable import SocksDeckEngine

/// The probe clock's queue: deadline order, insertion order among equal deadlines, and the
/// steady state of a thousand probes (take the first, put it back at the end) costing no
/// allocation, which NIO's `CircularBuffer.insert` made one whole copy of the queue per probe.
@Suite struct DeadlineQueueTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    @Test func elementsComeOutByDeadlineAndTiesInInsertionOrder() {
        var queue = DeadlineQueue<String>()
        queue.insert("c", due: start + .milliseconds(30))
        queue.insert("a", due: start + .milliseconds(10))
        queue.insert("b1", due: start + .milliseconds(20))
        queue.insert("b2", due: start + .milliseconds(20))
        queue.insert("d", due: start + .milliseconds(40))
        #expect(queue.firstDue == start + .milliseconds(10))
        var order: [String] = []
        while let taken = queue.popFirst(dueBy: start + .seconds(1)) { order.append(taken.element) }
        #expect(order == ["a", "b1", "b2", "c", "d"])
        #expect(queue.isEmpty)
    }

    @Test func nothingIsTakenBeforeItIsDue() {
        var queue = DeadlineQueue<Int>()
        queue.insert(1, due: start + .milliseconds(5))
        #expect(queue.popFirst(dueBy: start) == nil)
        #expect(queue.count == 1)
        #expect(queue.popFirst(dueBy: start + .milliseconds(5))?.element == 1)
    }

    final class Probe {}

    @Test(.enabled(if: allocation_counter_available() == 1, "the sanitizers own malloc"))
    func aThousandProbesGoingRoundAllocateNothing() {
        var queue = DeadlineQueue<Probe>()
        let period = TimeAmount.seconds(1)
        for i in 0..<1000 { queue.insert(Probe(), due: start + .milliseconds(Int64(i))) }
        // One full round first, so that the buffer has taken its size.
        var now = start
        func round() {
            for _ in 0..<1000 {
                now = now + .milliseconds(1)
                guard let taken = queue.popFirst(dueBy: now) else { continue }
                queue.insert(taken.element, due: taken.due + period)
            }
        }
        round()
        allocation_counter_start()
        round()
        round()
        let allocations = allocation_counter_stop()
        #expect(allocations == 0, "\(allocations) allocations for 2,000 probes re-queued")
        #expect(queue.count == 1000)
    }
}
