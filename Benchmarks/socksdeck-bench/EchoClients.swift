import CSocks5
import Foundation
import Socks5
import Socks5CAPI
import SocksDeckEngine

#if canImport(Glibc)
import Glibc
#endif

/// One echo run: `count` datagrams of `size` bytes, `window` of them in flight, through a
/// client; each echo received lets the next datagram go.
struct EchoRun {
    var count: Int
    var size: Int
    var window: Int
}

/// What a run measured.
struct EchoResult {
    /// Echoes received per second.
    var rate: Double
    /// The client's CPU (user+system) per echoed datagram (one send and one receive), in µs.
    var clientMicroseconds: Double
    var received: Int
    /// Times the client went to sleep waiting (voluntary context switches) per echoed datagram:
    /// what most of a client's CPU goes to when the relay, not the client, sets the pace.
    var sleepsPerDatagram: Double? = nil
}

/// Voluntary context switches so far: of the calling thread, or of the whole process.
func voluntarySwitches(thread: Bool) -> Int {
    var usage = rusage()
    // RUSAGE_THREAD (1) is Linux's, behind _GNU_SOURCE, which Swift's Glibc does not define.
    getrusage(thread ? 1 : RUSAGE_SELF.rawValue, &usage)
    return usage.ru_nvcsw
}

/// The clients measured. Each runs the same loop: fill the window, then send one more for every
/// echo received, until `count` are sent; a 2 s silence ends the run (counted as loss).
enum EchoClients {
    /// SocksDeck's Swift API: UDPAssociation, whose send/receive are DatagramIO (sendmsg with the
    /// header on the stack; recvmsg, no allocation).
    static func library(_ server: IPEndpoint, _ echo: IPEndpoint, _ run: EchoRun) throws -> EchoResult {
        let association = try UDPAssociation.open(server: server)
        setReceiveTimeout(association.dataSocket)
        let payload = [UInt8](repeating: 0x42, count: run.size)
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let target = SOCKSAddress.ip(echo)
        return try buffer.withUnsafeMutableBytes { b in
            try payload.withUnsafeBytes { p in
                try loop(
                    run,
                    send: { try association.send(p, to: target) },
                    receive: { (try? association.receive(into: b)) != nil }
                )
            }
        }
    }

    /// The same API's batched calls: sendmmsg for every datagram the window lets go, recvmmsg
    /// into a `ReceiveBatch`, and with `gathering`, a pause before waiting on an empty queue so
    /// that a relay handing back one datagram at a time (Dante) wakes the client once for several.
    static func libraryBatched(
        _ server: IPEndpoint,
        _ echo: IPEndpoint,
        _ run: EchoRun,
        gathering: Duration?
    ) throws -> EchoResult {
        let association = try UDPAssociation.open(server: server)
        setReceiveTimeout(association.dataSocket)
        let payload = [UInt8](repeating: 0x42, count: run.size)
        let batch = ReceiveBatch(capacity: max(run.window, 1), payloadCapacity: 2048)
        let target = SOCKSAddress.ip(echo)
        return try payload.withUnsafeBytes { p in
            let outgoing = [UnsafeRawBufferPointer](repeating: p, count: max(run.window, 1))
            return try outgoing.withUnsafeBufferPointer { list in
                var sent = 0
                var received = 0
                let cpu = CPUTime.thread()
                let switches = voluntarySwitches(thread: true)
                let start = Date()
                sent += try association.send(
                    UnsafeBufferPointer(rebasing: list[0..<min(run.window, run.count)]),
                    to: target
                )
                while received < sent {
                    guard let taken = try? association.receive(into: batch, gathering: gathering) else { break }
                    received += taken
                    let more = min(taken, run.count - sent)
                    if more > 0 {
                        sent += try association.send(UnsafeBufferPointer(rebasing: list[0..<more]), to: target)
                    }
                }
                return result(received: received, since: start, cpu: cpu, switches: switches)
            }
        }
    }

    /// The session engine's own echo path (`measureEcho`: the window kept on its event loop, each
    /// echo sending the next, every datagram counted and recorded as the UI shows it). Its CPU is
    /// the whole process's over the load (the loop's thread does the work; the caller waits).
    static func engine(
        _ server: IPEndpoint,
        _ echo: IPEndpoint,
        _ run: EchoRun,
        gathering: Duration? = nil
    ) async throws -> EchoResult {
        let definition = ServerDefinition(name: "bench", host: "\(server.address)", port: server.port, echo: echo)
        let engine = SessionEngine(configuration: DeckConfiguration(servers: [definition]))
        let settled = try await engine.openAndWait(server: definition, timeout: .seconds(10))
        guard settled.state == .associated else { throw BenchError("engine: association \(settled.state.name)") }
        let cpu = CPUTime.process()
        let switches = voluntarySwitches(thread: false)
        let measured = try await engine.measureEcho(
            settled.id,
            count: run.count,
            window: run.window,
            payloadLength: max(run.size, 24),
            stall: .seconds(2),
            gathering: gathering
        )
        let cpuNanoseconds = Double(CPUTime.process() - cpu)
        await engine.shutdown()
        return EchoResult(
            rate: measured.echoesPerSecond,
            clientMicroseconds: cpuNanoseconds / 1000 / Double(max(measured.echoed, 1)),
            received: measured.echoed,
            sleepsPerDatagram: Double(voluntarySwitches(thread: false) - switches) / Double(max(measured.echoed, 1))
        )
    }

    /// The C API of socks5.h, as a C program calls it: socks5udp_associate, then
    /// socks5udp_sendto and socks5udp_recvfrom with sockaddr buffers.
    static func cAPI(_ server: IPEndpoint, _ echo: IPEndpoint, _ run: EchoRun) throws -> EchoResult {
        let control = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let data = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer {
            close(control)
            close(data)
        }
        var relay = sockaddr_storage()
        var serverAddress = sockaddr_storage()
        var target = sockaddr_storage()
        _ = withUnsafeMutableBytes(of: &relay) { IPEndpoint(.unspecified(.ipv4), port: 0).write(to: $0.baseAddress!) }
        let serverLength = withUnsafeMutableBytes(of: &serverAddress) { server.write(to: $0.baseAddress!) }
        let targetLength = withUnsafeMutableBytes(of: &target) { echo.write(to: $0.baseAddress!) }
        let relayLength = MemoryLayout<sockaddr_in>.size
        let rc = withSockaddrPointers(&relay, &serverAddress) {
            socks5udp_associate(control, $0, relayLength, $1, serverLength)
        }
        guard rc == 0 else { throw BenchError("socks5udp_associate: errno \(errno), socks5_errno \(socks5_errno)") }
        setReceiveTimeout(data)
        var payload = [UInt8](repeating: 0x42, count: run.size)
        var buffer = [UInt8](repeating: 0, count: 65_536)
        return try withSockaddrPointers(&target, &relay) { targetPointer, relayPointer in
            let t = UnsafeMutablePointer(mutating: targetPointer)
            let r = UnsafeMutablePointer(mutating: relayPointer)
            return try loop(
                run,
                send: {
                    guard socks5udp_sendto(data, &payload, payload.count, 0, t, targetLength, r, relayLength) == 0
                    else {
                        throw BenchError("socks5udp_sendto: errno \(errno)")
                    }
                },
                receive: {
                    socks5udp_recvfrom(data, &buffer, buffer.count, 0, nil, nil, relayPointer, relayLength) >= 0
                }
            )
        }
    }

    /// The same traffic straight to the echo target, no SOCKS: the ceiling, and the CPU a UDP
    /// client spends without encapsulation.
    static func direct(_ echo: IPEndpoint, _ run: EchoRun) throws -> EchoResult {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        setReceiveTimeout(fd)
        _ = echo.withSockaddr { connect(fd, $0, $1) }
        let payload = [UInt8](repeating: 0x42, count: run.size)
        var buffer = [UInt8](repeating: 0, count: 65_536)
        return try loop(
            run,
            send: { _ = send(fd, payload, payload.count, 0) },
            receive: { recv(fd, &buffer, buffer.count, 0) >= 0 }
        )
    }

    /// The same, on an unconnected socket (sendto/recvfrom with an address each time), as
    /// a SOCKS client's data socket is: the relay is one peer, but foreign senders must be seen
    /// to be counted, so it stays unconnected. Separates the kernel's extra cost for unconnected
    /// sends from SocksDeck's own.
    static func directUnconnected(_ echo: IPEndpoint, _ run: EchoRun) throws -> EchoResult {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        setReceiveTimeout(fd)
        let payload = [UInt8](repeating: 0x42, count: run.size)
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var from = sockaddr_storage()
        return try loop(
            run,
            send: { _ = echo.withSockaddr { sendto(fd, payload, payload.count, 0, $0, $1) } },
            receive: {
                var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
                return withUnsafeMutablePointer(to: &from) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        recvfrom(fd, &buffer, buffer.count, 0, $0, &length)
                    }
                } >= 0
            }
        )
    }

    /// The loop every in-process client runs; CPU is this thread's.
    private static func loop(_ run: EchoRun, send: () throws -> Void, receive: () -> Bool) throws -> EchoResult {
        var sent = 0
        var received = 0
        let cpu = CPUTime.thread()
        let switches = voluntarySwitches(thread: true)
        let start = Date()
        while sent < min(run.window, run.count) {
            try send()
            sent += 1
        }
        while received < sent {
            guard receive() else { break }
            received += 1
            if sent < run.count {
                try send()
                sent += 1
            }
        }
        return result(received: received, since: start, cpu: cpu, switches: switches)
    }

    /// What a run on this thread measured, from its start's clock, CPU time and switch count.
    private static func result(received: Int, since start: Date, cpu: UInt64, switches: Int) -> EchoResult {
        let seconds = Date().timeIntervalSince(start)
        let cpuNanoseconds = Double(CPUTime.thread() - cpu)
        return EchoResult(
            rate: Double(received) / seconds,
            clientMicroseconds: cpuNanoseconds / 1000 / Double(max(received, 1)),
            received: received,
            sleepsPerDatagram: Double(voluntarySwitches(thread: true) - switches) / Double(max(received, 1))
        )
    }

    private static func setReceiveTimeout(_ fd: Int32) {
        var tv = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    private static func withSockaddrPointers<T>(
        _ a: inout sockaddr_storage,
        _ b: inout sockaddr_storage,
        _ body: (UnsafePointer<sockaddr>, UnsafePointer<sockaddr>) throws -> T
    ) rethrows -> T {
        try withUnsafePointer(to: &a) { ap in
            try withUnsafePointer(to: &b) { bp in
                try ap.withMemoryRebound(to: sockaddr.self, capacity: 1) { a in
                    try bp.withMemoryRebound(to: sockaddr.self, capacity: 1) { b in try body(a, b) }
                }
            }
        }
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
