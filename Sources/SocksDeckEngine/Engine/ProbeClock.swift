import NIOCore

/// One timer for all of an engine's health probes. Each probe used to have its own scheduled
/// task, and with a thousand probes NIO's timer heap (sifting a thousand tasks at every tick)
/// cost more than the probes' own work. The clock keeps one queue per interval, in deadline
/// order, and one NIO callback for the earliest deadline of all.
///
/// A probe's first datagram goes at once; its second after a random part of an interval more,
/// and from then on at a fixed rate. A thousand probes started together would otherwise stay
/// together: a burst of a thousand datagrams every second at one echo target, whose socket
/// buffer drops some (measured through Dante: about 1 % of the probes lost, and RTTs of 1.2 ms
/// where they are 0.33 ms), which a health probe must never make up. The price is a wake-up
/// of the loop per probe and per echo instead of one per burst (on this 2-core VM, the engine
/// at 1,000 probes a second: 12 % of a core instead of 2 %; coalescing probes into 10 or 50 ms
/// windows saved little and inflated RTTs again, so they are not coalesced). Re-queued probes
/// almost always go at the end, so keeping the order costs nothing in the common case.
/// Confined to the engine's event loop.
final class ProbeClock: @unchecked Sendable {
    private struct Entry {
        var due: NIODeadline
        let probe: HealthProbe
        /// The probe's run this entry belongs to: a probe stopped (or restarted) leaves its
        /// old entry behind, which is dropped when it falls due.
        let run: UInt64
        /// True until the first probe went: the next one takes its random phase.
        var first: Bool
    }

    private let loop: EventLoop
    private var queues: [Int64: CircularBuffer<Entry>] = [:]
    private var next: (due: NIODeadline, callback: NIOScheduledCallback)?

    init(loop: EventLoop) { self.loop = loop }

    /// `probe`'s first probe of run `run` falls due now.
    func start(_ probe: HealthProbe, run: UInt64) {
        enqueue(Entry(due: .now(), probe: probe, run: run, first: true))
        armTimer()
    }

    /// Into its interval's queue, after every entry due no later (searched from the end, where
    /// a re-queued probe belongs).
    private func enqueue(_ entry: Entry) {
        let key = entry.probe.interval.nanoseconds
        var queue = queues.removeValue(forKey: key) ?? CircularBuffer()
        var index = queue.endIndex
        while index > queue.startIndex, queue[queue.index(before: index)].due > entry.due {
            index = queue.index(before: index)
        }
        queue.insert(entry, at: index)
        queues[key] = queue
    }

    /// Fires every probe that is due, queues each again, and sets the timer for the earliest left.
    private func tick() {
        next = nil
        let now = NIODeadline.now()
        for interval in Array(queues.keys) {
            while let entry = queues[interval]?.first, entry.due <= now {
                queues[interval]?.removeFirst()
                guard entry.probe.fire(run: entry.run) else { continue }
                let period = TimeAmount.nanoseconds(entry.probe.interval.nanoseconds)
                let following: NIODeadline
                if entry.first {
                    following = now + .nanoseconds(period.nanoseconds / 2 + .random(in: 0..<max(period.nanoseconds, 1)))
                } else {
                    // After a stall longer than the interval, no catching up: one interval from now.
                    following = entry.due + period > now ? entry.due + period : now + period
                }
                enqueue(Entry(due: following, probe: entry.probe, run: entry.run, first: false))
            }
            if queues[interval]?.isEmpty == true { queues[interval] = nil }
        }
        armTimer()
    }

    private func armTimer() {
        var earliest: NIODeadline?
        for queue in queues.values {
            if let due = queue.first?.due, earliest.map({ due < $0 }) ?? true { earliest = due }
        }
        guard let earliest else { return }
        if let next, next.due <= earliest { return }
        next?.callback.cancel()
        let callback = try? loop.assumeIsolated().scheduleCallback(at: earliest, handler: Tick(clock: self))
        next = callback.map { (earliest, $0) }
    }

    private struct Tick: NIOScheduledCallbackHandler {
        let clock: ProbeClock
        func handleScheduledCallback(eventLoop: some EventLoop) { clock.tick() }
    }
}
