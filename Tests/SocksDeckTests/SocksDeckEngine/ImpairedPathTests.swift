import Foundation
import Socks5
import Testing

@testable import SocksDeckEngine

/// Probes over an impaired path report the loss and the delay that the path really has.
@Suite(.tags(.peers), .needsPeers) struct ImpairedPathTests {
    @Test func probesReportLossAndRTTOfAnImpairedPath() async throws {
        let peers = try TestPeers.shared()
        let echo = ImpairedEchoServer(dropEvery: 4, delayMilliseconds: 40)
        defer { echo.stop() }
        let engine = SessionEngine(configuration: SessionEngineTests.configuration(peers))
        let id = try await engine.open(server: "dante")
        #expect(await engine.waitUntilSettled(id)?.state == .associated)
        try await engine.startProbe(id, target: echo.endpoint, interval: .milliseconds(50))
        // About 40 probes.
        try await Task.sleep(for: .milliseconds(40 * 50))
        let p = try #require(await engine.snapshot(id)?.probe)
        await engine.shutdown()
        // The path drops exactly one in four and delays the rest by 40 ms.
        #expect(p.sent >= 30)
        #expect(abs(Double(p.answered) / Double(p.sent) - 0.75) <= 0.08, "answered \(p.answered) of \(p.sent)")
        let p50 = try #require(p.rttP50?.milliseconds)
        #expect(p50 >= 40 && p50 < 200, "p50 \(p50) ms")
        #expect((p.rttP99?.milliseconds ?? 0) >= p50)
    }

    @Test func lossIsCountedOnceTheProbeTimeoutHasPassed() async throws {
        let peers = try TestPeers.shared()
        let echo = ImpairedEchoServer(dropEvery: 2, delayMilliseconds: 0)
        defer { echo.stop() }
        let engine = SessionEngine(configuration: SessionEngineTests.configuration(peers))
        let id = try await engine.open(server: "dante")
        #expect(await engine.waitUntilSettled(id)?.state == .associated)
        try await engine.startProbe(id, target: echo.endpoint, interval: .milliseconds(100))
        let s = await SessionEngineTests.eventually(engine, id, seconds: 8) { ($0.probe?.lost ?? 0) >= 5 }
        let p = try #require(s?.probe)
        #expect(p.lost >= 5 && p.answered >= 5)
        // Every probe is either answered, lost, or still within its timeout: none is counted twice.
        #expect(p.answered + p.lost <= p.sent)
        await engine.shutdown()
    }
}
