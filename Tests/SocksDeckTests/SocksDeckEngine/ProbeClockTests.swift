import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Socks5
import Testing

@testable import SocksDeckEngine

/// One clock for every probe: each keeps its own interval, a stopped probe stops, and a
/// restarted one does not run twice over. Bounds are loose (a real loop on a busy machine):
/// what they catch is a probe firing never, after its stop, or at double rate.
@Suite struct ProbeClockTests {
    @Test func probesKeepTheirIntervalsAndStopWhenStopped() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let target = IPEndpoint(.v4(.loopback), port: 9)
        let sends = NIOLockedValueBox([String: Int]())
        let started = NIODeadline.now()
        // The clock and probes are the loop's: each visit below takes them from the bound value.
        let bound = try await loop.submit { () -> NIOLoopBound<(ProbeClock, [String: HealthProbe])> in
            let clock = ProbeClock(loop: loop)
            let probes = [
                "fast": HealthProbe(target: target, interval: .milliseconds(20), associationID: 1),
                "stopped": HealthProbe(target: target, interval: .milliseconds(20), associationID: 2),
                "slow": HealthProbe(target: target, interval: .milliseconds(100), associationID: 3),
                "restarted": HealthProbe(target: target, interval: .milliseconds(20), associationID: 4),
            ]
            for (name, probe) in probes {
                probe.start(on: clock) { _ in sends.withLockedValue { $0[name, default: 0] += 1 } }
            }
            // Stopped and started again at once: its first run's entry must not fire too.
            probes["restarted"]!.stop()
            probes["restarted"]!.start(on: clock) { _ in sends.withLockedValue { $0["restarted", default: 0] += 1 } }
            return NIOLoopBound((clock, probes), eventLoop: loop)
        }.get()
        try await Task.sleep(for: .milliseconds(600))
        let atStop = try await loop.submit {
            bound.value.1["stopped"]!.stop()
            return sends.withLockedValue { $0["stopped", default: 0] }
        }.get()
        try await Task.sleep(for: .milliseconds(300))
        let (counts, elapsed) = try await loop.submit {
            for probe in bound.value.1.values { probe.stop() }
            return (sends.withLockedValue { $0 }, (NIODeadline.now() - started).nanoseconds / 1_000_000)
        }.get()
        // Against the time that really passed (a busy machine sleeps longer than asked): never
        // more than one per interval (plus the first, sent at once), and not far fewer.
        let fast = counts["fast", default: 0]
        let slow = counts["slow", default: 0]
        #expect(
            fast <= Int(elapsed / 20) + 2 && fast >= Int(elapsed / 20) / 4,
            "fast: \(fast) in \(elapsed) ms at 20 ms"
        )
        #expect(slow <= Int(elapsed / 100) + 2 && slow >= Int(elapsed / 100) / 4, "slow: \(slow) in \(elapsed) ms")
        #expect(fast > 2 * slow)
        #expect(atStop >= 5 && counts["stopped"] == atStop, "stopped at \(atStop), then \(counts["stopped"] ?? 0)")
        #expect(counts["restarted", default: 0] <= fast + 2, "restarted: \(counts["restarted"] ?? 0), fast \(fast)")
        try await group.shutdownGracefully()
    }
}
