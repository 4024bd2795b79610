import Foundation
import ProcessPolicy
import Socks5
import SocksDeckEngine

/// The engine alone doing what `socksdeck ui --open 1000 --probe-opened` makes it do: N
/// associations, each probed every second, measured after the same settling time as the UI is
/// (bench.sh --tui), so that the UI's own share is the difference of the two.
enum ProbeCPUBenchmark {
    static func run(_ server: IPEndpoint, _ echo: IPEndpoint, associations count: Int, seconds: Int) async throws {
        DescriptorLimit.raise(toAtLeast: .max)
        let definition = ServerDefinition(name: "bench", host: "\(server.address)", port: server.port, echo: echo)
        let engine = SessionEngine(configuration: DeckConfiguration(servers: [definition]))
        let ids = try await engine.open(server: definition, count: count)
        for id in ids { try? await engine.startProbe(id, interval: .seconds(1)) }
        try await Task.sleep(for: .seconds(8))
        let before = await engine.snapshots().compactMap(\.probe).reduce(0) { $0 + $1.sent }
        let cpuStart = CPUTime.process()
        let start = Date()
        try await Task.sleep(for: .seconds(seconds))
        let cpu = Double(CPUTime.process() - cpuStart)
        let wall = Date().timeIntervalSince(start)
        let probes = await engine.snapshots().compactMap(\.probe)
        let sent = probes.reduce(0) { $0 + $1.sent } - before
        let associated = await engine.snapshots().filter { $0.state == .associated }.count
        let p50s = probes.compactMap { $0.rttP50?.milliseconds }.sorted()
        await engine.shutdown()
        print(
            """
            | the engine alone, \(count) associations probed every second, over \(seconds) s | value |
            |---|---:|
            | associated | \(associated) of \(count) |
            | engine CPU | \(String(format: "%.2f", cpu / 1e9 / wall * 100)) % of a core |
            | probes sent in that time | \(sent) (\(String(format: "%.0f", Double(sent) / wall)) a second) |
            | CPU per probe (its datagram and its echo) | \(String(format: "%.1f", cpu / 1000 / Double(max(sent, 1)))) µs |
            | median of the associations' RTT p50 | \(p50s.isEmpty ? "-" : String(format: "%.3f ms", p50s[p50s.count / 2])) |

            """
        )
    }
}
