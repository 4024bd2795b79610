import Foundation
import Socks5

/// PySocks (`pip install pysocks`) running the same loops in a python3 process, which prints
/// its own figures: the rate, and its CPU per datagram from time.thread_time() around the loop
/// (the interpreter's start-up is not counted).
enum PySocksClient {
    static let script = """
        import socket, sys, time, socks
        mode, host, port, ehost, eport, n, size, window = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8])
        if mode == "setup":
            t = time.perf_counter()
            for _ in range(n):
                s = socks.socksocket(socket.AF_INET, socket.SOCK_DGRAM)
                s.set_proxy(socks.SOCKS5, host, port)
                s.bind(("127.0.0.1", 0))
                s.close()
            print(n / (time.perf_counter() - t), 0); sys.exit(0)
        s = socks.socksocket(socket.AF_INET, socket.SOCK_DGRAM)
        s.set_proxy(socks.SOCKS5, host, port)
        s.bind(("127.0.0.1", 0))
        s.settimeout(2)
        payload = b"B" * size
        sent = received = 0
        c = time.thread_time()
        t = time.perf_counter()
        while sent < min(window, n):
            s.sendto(payload, (ehost, eport)); sent += 1
        while received < sent:
            try:
                s.recvfrom(65536)
            except socket.timeout:
                break
            received += 1
            if sent < n:
                s.sendto(payload, (ehost, eport)); sent += 1
        elapsed = time.perf_counter() - t
        print(received / elapsed, (time.thread_time() - c) * 1e6 / max(received, 1))
        """

    static func setup(_ server: IPEndpoint, _ count: Int) throws -> Double {
        try run("setup", server, server, EchoRun(count: count, size: 0, window: 1)).rate
    }

    static func echo(_ server: IPEndpoint, _ echo: IPEndpoint, _ run: EchoRun) throws -> EchoResult {
        try self.run("echo", server, echo, run)
    }

    private static func run(_ mode: String, _ server: IPEndpoint, _ echo: IPEndpoint, _ r: EchoRun) throws -> EchoResult
    {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [
            "python3", "-c", script, mode, "\(server.address)", "\(server.port)", "\(echo.address)", "\(echo.port)",
            "\(r.count)", "\(r.size)", "\(r.window)",
        ]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let fields = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isWhitespace).compactMap {
            Double($0)
        }
        guard p.terminationStatus == 0, fields.count == 2 else {
            // Python's traceback went to stderr above; an ImportError means PySocks is missing.
            throw BenchError(
                "PySocks \(mode) failed with status \(p.terminationStatus) (its error is above; "
                    + "ModuleNotFoundError: pip install pysocks; ConnectionRefusedError: is the echo target up?)"
            )
        }
        return EchoResult(rate: fields[0], clientMicroseconds: fields[1], received: 0)
    }
}
