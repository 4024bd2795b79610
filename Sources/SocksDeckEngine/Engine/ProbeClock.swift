import NIOCore

/// One timer for all of an engine's health probes. Each probe used to have its own scheduled
/// task, and with a thousand probes NIO's timer heap (sifting a thousand tasks at every tick)
/// cost more than the probes' own work. Probes of one interval fall due in the order they were
/// started, each one `interval` after its last, so a first-in, first-out queue per interval
/// keeps them in deadline order at no cost; the clock sets one NIO callback for the earliest.
/// Confined to the engine's event loop.
final class ProbeClock: @unchecked Sendable {
    private struct Entry {
        var due: NIODeadline
        let probe: HealthProbe
        /// The probe's run this entry belongs to: a probe stopped (or restarted) leaves its
        /// old entry behind, which is dropped when it falls due.
        let run: UInt64
    }

    private let loop: EventLoop
    private var queues: [Int64: CircularBuffer<Entry>] = [:]
    private var next: (due: NIODeadline, callback: NIOScheduledCallback)?

    init(loop: EventLoop) { self.loop = loop }

    /// `probe`'s next probe (its run `run`) falls due at `due`.
    func schedule(_ probe: HealthProbe, run: UInt64, at due: NIODeadline) {
        queues[probe.interval.nanoseconds, default: CircularBuffer()].append(Entry(due: due, probe: probe, run: run))
        armTimer()
    }

    /// Fires every probe that is due, queues each again one interval later, and sets the timer
    /// for the earliest left.
    private func tick() {
        next = nil
        let now = NIODeadline.now()
        for interval in Array(queues.keys) {
            while let first = queues[interval]?.first, first.due <= now {
                queues[interval]?.removeFirst()
                if first.probe.fire(run: first.run) {
                    queues[interval]?.append(
                        Entry(due: .now() + first.probe.interval, probe: first.probe, run: first.run)
                    )
                }
            }
            if queues[interval]?.isEmpty == true { queues[interval] = nil }
        }
        armTimer()
    }

    private func armTimer() {
        guard let earliest = queues.values.compactMap(\.first?.due).min() else { return }
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
