import Foundation
import ProcessPolicy
import Socks5
import SocksDeckEngine

#if canImport(Glibc)
import Glibc
#endif

/// Many associations at once through the engine, each probed every second: what one
/// association costs in memory, what the engine costs in CPU, and that nothing grows a thread
/// per association.
enum ScaleBenchmark {
    /// Once with the default receive buffer (64 KiB each, resident only as far as datagrams use it)
    /// and once with receive_buffer_bytes = 2048.
    static func run(_ server: IPEndpoint, _ echo: IPEndpoint, associations count: Int, seconds: Int) async throws {
        // 1,000 associations need 2,000 descriptors here; the limit goes up in this process only.
        DescriptorLimit.raise(toAtLeast: .max)
        for receiveBuffer in [ServerDefinition.defaultReceiveBufferBytes, 2048] {
            try await run(server, echo, associations: count, seconds: seconds, receiveBuffer: receiveBuffer)
        }
    }

    static func run(
        _ server: IPEndpoint,
        _ echo: IPEndpoint,
        associations count: Int,
        seconds: Int,
        receiveBuffer: Int
    ) async throws {
        let definition = ServerDefinition(
            name: "bench",
            host: "\(server.address)",
            port: server.port,
            echo: echo,
            receiveBufferBytes: receiveBuffer
        )
        // The log keeps a fixed number of events, so its size does not grow with the count.
        let engine = SessionEngine(configuration: DeckConfiguration(servers: [definition]))
        // Warm up: the engine's thread, NIO's allocators and the first sockets exist before the baseline.
        let warm = try await engine.open(server: "bench")
        _ = await engine.waitUntilSettled(warm, timeout: .seconds(10))
        await engine.close(warm)
        await engine.prune()
        let threadsBefore = threadCount()
        let residentBefore = CPUTime.residentBytes()
        let heapBefore = CPUTime.heapInUse()

        let openStart = Date()
        let ids = try await engine.open(server: definition, count: count)
        let openSeconds = Date().timeIntervalSince(openStart)
        let associated = await engine.snapshots().filter { $0.state == .associated }.count
        for id in ids { try? await engine.startProbe(id, interval: .seconds(1)) }
        let residentOpen = CPUTime.residentBytes()
        let heapOpen = CPUTime.heapInUse()

        let cpuStart = CPUTime.process()
        let start = Date()
        try await Task.sleep(for: .seconds(seconds))
        let cpuSeconds = Double(CPUTime.process() - cpuStart) / 1e9
        let wall = Date().timeIntervalSince(start)
        let residentEnd = CPUTime.residentBytes()
        let heapEnd = CPUTime.heapInUse()
        let threadsEnd = threadCount()

        let snapshots = await engine.snapshots()
        let probes = snapshots.compactMap(\.probe)
        let sent = probes.reduce(0) { $0 + $1.sent }
        let answered = probes.reduce(0) { $0 + $1.answered }
        let lost = probes.reduce(0) { $0 + $1.lost }
        let p50s = probes.compactMap { $0.rttP50?.milliseconds }.sorted()
        await engine.shutdown()

        let perAssociation = Double(residentEnd - residentBefore) / Double(max(associated, 1))
        print(
            """
            | \(count) associations, probed every second for \(seconds) s, receive_buffer_bytes = \(receiveBuffer) | value |
            |---|---:|
            | associated | \(associated) of \(count), opened in \(String(format: "%.1f", openSeconds)) s |
            | memory growth per association (RSS, after \(seconds) s) | \(String(format: "%.1f", perAssociation / 1024)) KiB |
            | memory growth per association (RSS, just opened) | \(String(format: "%.1f", Double(residentOpen - residentBefore) / Double(max(associated, 1)) / 1024)) KiB |
            | heap in use per association (just opened / after \(seconds) s) | \(kib(heapOpen - heapBefore, associated)) / \(kib(heapEnd - heapBefore, associated)) KiB |
            | threads before / after | \(threadsBefore) / \(threadsEnd) |
            | engine CPU while probing | \(String(format: "%.1f", cpuSeconds / wall * 100)) % of a core |
            | probes sent / answered / lost | \(sent) / \(answered) / \(lost) |
            | median of the associations' RTT p50 | \(p50s.isEmpty ? "-" : String(format: "%.3f ms", p50s[p50s.count / 2])) |

            """
        )
    }

    static func kib(_ bytes: Int, _ count: Int) -> String {
        String(format: "%.1f", Double(bytes) / Double(max(count, 1)) / 1024)
    }

    static func threadCount() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? 0
    }
}
