import AllocationCounter
import Foundation
import Socks5
import Testing

@testable import SocksDeckEngine

/// Bounded load through Dante: many associations at once, each with a burst; counters exact;
/// nothing left behind. Bounded in count and time, loopback only.
@Suite(.tags(.peers), .needsPeers, .serialized) struct LoadTests {
    static func residentKilobytes() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }

    @Test func fiveHundredAssociationsEachWithABurstCountEveryDatagramOnce() async throws {
        let peers = try TestPeers.shared()
        // libdispatch makes its timer descriptor on the first sleep of the process: not ours.
        try await Task.sleep(for: .milliseconds(1))
        let before = TestSockets.openDescriptorCount()
        let beforeList = Self.descriptors()
        let engine = SessionEngine(configuration: SessionEngineTests.configuration(peers))
        var ids: [AssociationID] = []
        for _ in 0..<500 { ids.append(try await engine.open(server: "dante")) }
        var associated: [AssociationID] = []
        for id in ids where await engine.waitUntilSettled(id, timeout: .seconds(30))?.state == .associated {
            associated.append(id)
        }
        #expect(associated.count == 500)
        let burst = 10
        for id in associated {
            #expect(
                try await engine.send(
                    id,
                    to: .ip(peers.echo.endpoint(.ipv4)),
                    payload: Array("load".utf8),
                    count: burst
                ) == burst
            )
        }
        let deadline = Date().addingTimeInterval(20)
        var snapshots = await engine.snapshots()
        while Date() < deadline, snapshots.contains(where: { $0.counters.datagramsReceived < burst }) {
            try await Task.sleep(for: .milliseconds(100))
            snapshots = await engine.snapshots()
        }
        let sent = snapshots.map(\.counters.datagramsSent)
        let received = snapshots.map(\.counters.datagramsReceived)
        #expect(sent.allSatisfy { $0 == burst }, "every datagram sent is counted once")
        #expect(
            received.allSatisfy { $0 == burst },
            "every echoed datagram is counted once: \(received.filter { $0 != burst }.count) differ"
        )
        #expect(snapshots.allSatisfy { $0.counters.droppedTotal == 0 })
        for id in ids { await engine.close(id) }
        await engine.shutdown()
        try await Task.sleep(for: .milliseconds(200))
        #expect(TestSockets.openDescriptorCount() <= before, "\(Self.descriptors().subtracting(beforeList))")
    }

    static func descriptors() -> Set<String> {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return Set(
            names.map {
                "\($0) -> "
                    + ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)")) ?? "?")
            }
        )
    }

    @Test func aThousandOpenCloseCyclesLeaveNoDescriptorAndLittleMemory() async throws {
        let peers = try TestPeers.shared()
        let engine = SessionEngine(configuration: SessionEngineTests.configuration(peers))
        // Warm up, so that one-time allocations (NIO, the engine's buffers) are not counted.
        for _ in 0..<50 {
            let id = try await engine.open(server: "dante")
            _ = await engine.waitUntilSettled(id, timeout: .seconds(10))
            await engine.close(id)
        }
        await engine.prune()
        let descriptors = TestSockets.openDescriptorCount()
        let memory = Self.residentKilobytes()
        for _ in 0..<1000 {
            let id = try await engine.open(server: "dante")
            #expect(await engine.waitUntilSettled(id, timeout: .seconds(10))?.state == .associated)
            await engine.close(id)
            await engine.prune()
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(TestSockets.openDescriptorCount() <= descriptors)
        let growth = Self.residentKilobytes() - memory
        print("1,000 open/close cycles: resident memory grew by \(growth) KiB")
        // AddressSanitizer keeps freed memory in quarantine (tens of MiB here): the bound holds
        // in the plain build, where it means something.
        if active_sanitizer() == 0 { #expect(growth < 8 * 1024, "grew by \(growth) KiB") }
        await engine.shutdown()
    }
}
