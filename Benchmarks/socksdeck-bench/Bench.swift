import Foundation
import Socks5
import SocksDeckEngine

/// SocksDeck's benchmarks against a SOCKS5 server and a UDP echo target that are already
/// running (scripts/bench.sh starts Dante and SocksDeck's NIO echo target on loopback and calls
/// this). Every client is measured in the same run, in alternation, several times; the results
/// are a Markdown table on stdout. Timing is wall clock: run on an idle machine.
///
///     socksdeck-bench SERVER_IP:PORT ECHO_IP:PORT [--runs 3] [--associations 300] [--datagrams 20000]
@main struct Bench {
    static func main() async throws {
        var args = Array(CommandLine.arguments.dropFirst())
        func option(_ name: String, _ fallback: Int) -> Int {
            guard let i = args.firstIndex(of: name), i + 1 < args.count, let v = Int(args[i + 1]) else { return fallback }
            args.removeSubrange(i...(i + 1))
            return v
        }
        let runs = option("--runs", 3)
        let associations = option("--associations", 300)
        let datagrams = option("--datagrams", 20_000)
        guard args.count == 2, let server = IPEndpoint(args[0]), let echo = IPEndpoint(args[1]) else {
            print("usage: socksdeck-bench SERVER_IP:PORT ECHO_IP:PORT [--runs N] [--associations N] [--datagrams N]")
            exit(64)
        }
        var table = ResultTable()

        // 1. Association setup rate: a new control connection each, sequentially.
        for _ in 0..<runs {
            table.add("setup, associations/s", "SocksDeck library (Swift)", try rate(associations) {
                let a = try UDPAssociation.open(server: server)
                a.close()
            })
            table.add("setup, associations/s", "SocksDeck engine", try await engineSetupRate(server, associations))
            table.add("setup, associations/s", "PySocks", try pySocks("setup", server, echo, associations))
        }

        // 2. Echo throughput, 64-byte payloads: ping-pong and 32 in flight.
        for window in [1, 32] {
            let label = window == 1 ? "echo ping-pong, datagrams/s" : "echo 32 in flight, datagrams/s"
            for _ in 0..<runs {
                table.add(label, "SocksDeck library (Swift)", try socksDeckEcho(server, echo, datagrams, window: window))
                table.add(label, "PySocks", try pySocks(window == 1 ? "pingpong" : "window", server, echo, datagrams))
                table.add(label, "no proxy (ceiling)", try directEcho(echo, datagrams, window: window))
            }
        }
        print(table.markdown(runs: runs))
    }

    static func rate(_ count: Int, _ body: () throws -> Void) throws -> Double {
        let start = Date()
        for _ in 0..<count { try body() }
        return Double(count) / Date().timeIntervalSince(start)
    }

    static func engineSetupRate(_ server: IPEndpoint, _ count: Int) async throws -> Double {
        let definition = ServerDefinition(name: "bench", host: "\(server.address)", port: server.port)
        let engine = SessionEngine(configuration: DeckConfiguration(servers: [definition]))
        let start = Date()
        for _ in 0..<count {
            let id = try await engine.open(server: "bench")
            _ = await engine.waitUntilSettled(id, timeout: .seconds(10))
            await engine.close(id)
        }
        let r = Double(count) / Date().timeIntervalSince(start)
        await engine.shutdown()
        return r
    }

    /// Datagrams/s through the relay with `window` in flight, on the library's DatagramIO.
    static func socksDeckEcho(_ server: IPEndpoint, _ echo: IPEndpoint, _ count: Int, window: Int) throws -> Double {
        // Closed when it goes out of scope (UDPAssociation is ~Copyable and closes in deinit).
        let association = try UDPAssociation.open(server: server)
        var tv = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(association.dataSocket, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let payload = [UInt8](repeating: 0x42, count: 64)
        var buffer = [UInt8](repeating: 0, count: 2048)
        var sent = 0
        var received = 0
        let start = Date()
        while sent < min(window, count) { try association.send(payload, to: .ip(echo)); sent += 1 }
        while received < sent {
            do { _ = try buffer.withUnsafeMutableBytes { try association.receive(into: $0) } } catch { break }
            received += 1
            if sent < count { try association.send(payload, to: .ip(echo)); sent += 1 }
        }
        return Double(received) / Date().timeIntervalSince(start)
    }

    /// The same traffic straight to the echo target: the ceiling.
    static func directEcho(_ echo: IPEndpoint, _ count: Int, window: Int) throws -> Double {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var tv = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        _ = echo.withSockaddr { connect(fd, $0, $1) }
        let payload = [UInt8](repeating: 0x42, count: 64)
        var buffer = [UInt8](repeating: 0, count: 2048)
        var sent = 0
        var received = 0
        let start = Date()
        while sent < min(window, count) { _ = send(fd, payload, payload.count, 0); sent += 1 }
        while received < sent {
            guard recv(fd, &buffer, buffer.count, 0) >= 0 else { break }
            received += 1
            if sent < count { _ = send(fd, payload, payload.count, 0); sent += 1 }
        }
        return Double(received) / Date().timeIntervalSince(start)
    }

    /// PySocks doing the same, in a python3 process (its own figure on stdout).
    static func pySocks(_ mode: String, _ server: IPEndpoint, _ echo: IPEndpoint, _ count: Int) throws -> Double {
        let script = """
            import socket, sys, time, socks
            mode, host, port, ehost, eport, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
            if mode == "setup":
                t = time.perf_counter()
                for _ in range(n):
                    s = socks.socksocket(socket.AF_INET, socket.SOCK_DGRAM)
                    s.set_proxy(socks.SOCKS5, host, port)
                    s.bind(("127.0.0.1", 0))
                    s.close()
                print(n / (time.perf_counter() - t)); sys.exit(0)
            s = socks.socksocket(socket.AF_INET, socket.SOCK_DGRAM)
            s.set_proxy(socks.SOCKS5, host, port)
            s.settimeout(2)
            payload = b"B" * 64
            window = 1 if mode == "pingpong" else 32
            sent = received = 0
            t = time.perf_counter()
            while sent < min(window, n):
                s.sendto(payload, (ehost, eport)); sent += 1
            while received < sent:
                try:
                    s.recvfrom(2048)
                except socket.timeout:
                    break
                received += 1
                if sent < n:
                    s.sendto(payload, (ehost, eport)); sent += 1
            print(received / (time.perf_counter() - t))
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script, mode, "\(server.address)", "\(server.port)", "\(echo.address)", "\(echo.port)", "\(count)"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Double(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }
}

/// Figures by benchmark and client: min / median / max over the runs.
struct ResultTable {
    private var rows: [(String, String, [Double])] = []

    mutating func add(_ benchmark: String, _ client: String, _ value: Double) {
        if let i = rows.firstIndex(where: { $0.0 == benchmark && $0.1 == client }) { rows[i].2.append(value) }
        else { rows.append((benchmark, client, [value])) }
    }

    func markdown(runs: Int) -> String {
        var out = "| benchmark | client | min | median | max |\n|---|---|---:|---:|---:|\n"
        for (benchmark, client, values) in rows {
            let v = values.sorted()
            out += "| \(benchmark) | \(client) | \(Int(v.first!)) | \(Int(v[v.count / 2])) | \(Int(v.last!)) |\n"
        }
        return out + "\n(\(runs) runs each, in alternation)\n"
    }
}
