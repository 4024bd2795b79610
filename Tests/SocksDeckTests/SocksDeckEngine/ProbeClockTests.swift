import NIOCore
import NIOEmbedded
import Socks5
import Testing

@testable import SocksDeckEngine

/// One clock for every probe: each keeps its own interval, a stopped probe stops, and a
/// restarted one does not run twice over. On virtual time (an EmbeddedEventLoop, whose clock the
/// ProbeClock reads), so the counts are exact but for each probe's random phase.
@Suite struct ProbeClockTests {
    @Test func probesKeepTheirIntervalsAndStopWhenStopped() throws {
        let loop = EmbeddedEventLoop()
        defer { try? loop.syncShutdownGracefully() }
        let target = IPEndpoint(.v4(.loopback), port: 9)
        var sends: [String: Int] = [:]
        let clock = ProbeClock(loop: loop)
        let probes = [
            "fast": HealthProbe(target: target, interval: .milliseconds(20), associationID: 1),
            "stopped": HealthProbe(target: target, interval: .milliseconds(20), associationID: 2),
            "slow": HealthProbe(target: target, interval: .milliseconds(100), associationID: 3),
            "restarted": HealthProbe(target: target, interval: .milliseconds(20), associationID: 4),
        ]
        for (name, probe) in probes { probe.start(on: clock) { _ in sends[name, default: 0] += 1 } }
        // Stopped and started again at once: its first run's entry must not fire too.
        probes["restarted"]!.stop()
        probes["restarted"]!.start(on: clock) { _ in sends["restarted", default: 0] += 1 }
        loop.advanceTime(by: .milliseconds(600))
        let atStop = sends["stopped", default: 0]
        probes["stopped"]!.stop()
        loop.advanceTime(by: .milliseconds(300))
        // The first goes at once, the second after half an interval and a random part of one, then
        // one every interval: over 900 ms, 45 to 47 at 20 ms and 9 or 10 at 100 ms.
        #expect((45...47).contains(sends["fast", default: 0]), "fast: \(sends)")
        #expect((9...10).contains(sends["slow", default: 0]), "slow: \(sends)")
        #expect((30...31).contains(atStop), "stopped at \(atStop)")
        #expect(sends["stopped"] == atStop, "a stopped probe fired: \(sends)")
        #expect((45...47).contains(sends["restarted", default: 0]), "restarted ran twice over: \(sends)")
        for probe in probes.values { probe.stop() }
    }
}
