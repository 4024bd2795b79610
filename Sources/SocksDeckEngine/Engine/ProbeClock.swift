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
/// at 1,000 probes a second: about 5 % of a core, most of it in those wake-ups; letting probes
/// go up to 2 ms early to share a wake-up saved nothing measurable and raised the RTTs' median
/// from 0.34 to 0.47 ms, and 10 or 50 ms windows inflated them more, so they are not
/// coalesced). Re-queued probes almost always go at the end, where DeadlineQueue appends.
/// Confined to the engine's event loop.
final class ProbeClock {
    private struct Entry {
        let probe: HealthProbe
        /// The probe's run this entry belongs to: a probe stopped (or restarted) leaves its
        /// old entry behind, which is dropped when it falls due.
        let run: UInt64
        /// True until the first probe went: the next one takes its random phase.
        var first: Bool
    }

    private let loop: EventLoop
    private var queues: [Int64: DeadlineQueue<Entry>] = [:]
    private var next: (due: NIODeadline, callback: NIOScheduledCallback)?

    init(loop: EventLoop) { self.loop = loop }

    /// `probe`'s first probe of run `run` falls due now.
    func start(_ probe: HealthProbe, run: UInt64) {
        queues[probe.interval.nanoseconds, default: DeadlineQueue()]
            .insert(Entry(probe: probe, run: run, first: true), due: loop.now)
        armTimer()
    }

    /// Fires every probe that is due, queues each again, and sets the timer for the earliest left.
    private func tick() {
        next = nil
        // The loop's clock, which a test's EmbeddedEventLoop drives by hand.
        let now = loop.now
        for interval in Array(queues.keys) {
            while let taken = queues[interval]?.popFirst(dueBy: now) {
                let (due, entry) = (taken.due, taken.element)
                guard entry.probe.fire(run: entry.run) else { continue }
                let period = TimeAmount.nanoseconds(interval)
                let following: NIODeadline
                if entry.first {
                    following = now + .nanoseconds(period.nanoseconds / 2 + .random(in: 0..<max(period.nanoseconds, 1)))
                } else {
                    // After a stall longer than the interval, no catching up: one interval from now.
                    following = due + period > now ? due + period : now + period
                }
                queues[interval]?.insert(Entry(probe: entry.probe, run: entry.run, first: false), due: following)
            }
            if queues[interval]?.isEmpty == true { queues[interval] = nil }
        }
        armTimer()
    }

    private func armTimer() {
        var earliest: NIODeadline?
        for queue in queues.values {
            if let due = queue.firstDue, earliest.map({ due < $0 }) ?? true { earliest = due }
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
