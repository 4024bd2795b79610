import CSocks5
import Foundation
import Socks5

#if canImport(Glibc)
import Glibc
#endif

/// `socksdeck forward`'s cost (issue 31): the CPU the forward process spends per datagram it
/// carries, beside what a SOCKS5 client costs that sends the same traffic through the same relay
/// itself (the library, plain and batched); and the latency the forward adds to a query loop.
/// The application's own CPU (a plain UDP client sending to the forward) is not the forward's.
enum ForwardBenchmark {
    static func run(
        server: IPEndpoint,
        echo: IPEndpoint,
        forward: IPEndpoint,
        forwardPID: Int32,
        runs: Int,
        datagrams: Int
    ) throws {
        var cpu = ResultTable("CPU, µs per datagram (send and echo)")
        var latency = ResultTable("round trip, µs (ping-pong)")
        for size in [64, 1200] {
            let label = "32 in flight, \(size) B"
            let run = EchoRun(count: datagrams, size: size, window: 32)
            for _ in 0..<runs {
                let before = CPUTime.processes([forwardPID])
                let application = try EchoClients.direct(forward, run)
                let spent = Double(CPUTime.processes([forwardPID]) - before)
                cpu.add(label, "socksdeck forward (the process)", spent / 1000 / Double(max(application.received, 1)))
                cpu.add(
                    label,
                    "SocksDeck library, direct",
                    try EchoClients.library(server, echo, run).clientMicroseconds
                )
                cpu.add(
                    label,
                    "SocksDeck library, batched, direct",
                    try EchoClients.libraryBatched(server, echo, run, gathering: nil).clientMicroseconds
                )
            }
        }
        let pings = max(datagrams / 10, 200)
        for _ in 0..<runs {
            latency.add("p50, 64 B", "through socksdeck forward", try throughForward(forward, pings).median)
            latency.add("p50, 64 B", "SocksDeck library, direct", try direct(server, echo, pings).median)
        }
        print(cpu.markdown)
        print(latency.markdown)
        for size in [64, 1200] {
            let label = "32 in flight, \(size) B"
            if let ours = cpu.median(label, "socksdeck forward (the process)"),
                let plain = cpu.median(label, "SocksDeck library, direct"),
                let batched = cpu.median(label, "SocksDeck library, batched, direct")
            {
                print(
                    "\(label): the forward's CPU per datagram is \(Bench.ratio(ours, plain)) the direct library "
                        + "client's, \(Bench.ratio(ours, batched)) the batched one's."
                )
            }
        }
        if let forwarded = latency.median("p50, 64 B", "through socksdeck forward"),
            let direct = latency.median("p50, 64 B", "SocksDeck library, direct")
        {
            print(String(format: "Latency the forward adds to a query loop, p50: %.1f µs.", forwarded - direct))
        }
        print()
    }

    /// Round trips of a plain UDP client through the forward, in µs.
    private static func throughForward(_ forward: IPEndpoint, _ count: Int) throws -> [Double] {
        let fd = socket(forward.family.rawFamily, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var tv = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        _ = forward.withSockaddr { connect(fd, $0, $1) }
        let payload = [UInt8](repeating: 0x42, count: 64)
        var buffer = [UInt8](repeating: 0, count: 2048)
        // The first round trip opens the flow's association: not a query loop's steady state.
        _ = send(fd, payload, payload.count, 0)
        guard recv(fd, &buffer, buffer.count, 0) > 0 else { throw BenchError("the forward did not answer") }
        return try timed(count) {
            _ = send(fd, payload, payload.count, 0)
            return recv(fd, &buffer, buffer.count, 0) > 0
        }
    }

    /// Round trips of the library's client through the relay itself, in µs.
    private static func direct(_ server: IPEndpoint, _ echo: IPEndpoint, _ count: Int) throws -> [Double] {
        let association = try UDPAssociation.open(server: server)
        var tv = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(association.dataSocket, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let payload = [UInt8](repeating: 0x42, count: 64)
        var buffer = [UInt8](repeating: 0, count: 2048)
        let target = SOCKSAddress.ip(echo)
        return try buffer.withUnsafeMutableBytes { b in
            try payload.withUnsafeBytes { p in
                try timed(count) {
                    try association.send(p, to: target)
                    return (try? association.receive(into: b)) != nil
                }
            }
        }
    }

    private static func timed(_ count: Int, _ roundTrip: () throws -> Bool) throws -> [Double] {
        var samples: [Double] = []
        samples.reserveCapacity(count)
        for _ in 0..<count {
            let start = DispatchTime.now().uptimeNanoseconds
            guard try roundTrip() else { throw BenchError("a round trip got no answer within 2 s") }
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1000)
        }
        return samples
    }
}

extension Array where Element == Double {
    var median: Double {
        let sorted = self.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }
}
