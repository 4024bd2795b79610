import Foundation
import Socks5

/// A loopback UDP echo target on 127.0.0.1 and ::1 (same port): every datagram goes back to its
/// source. One thread with poll(2); stopped through a pipe, and it stops by itself after a
/// bounded lifetime.
final class UDPEchoServer: @unchecked Sendable {
    let port: UInt16
    private let sockets: [Int32]
    private let wakeup: [Int32]
    private let finished = NSCondition()
    private var running = true

    init(lifetimeSeconds: Double = 600) {
        var port: UInt16 = 0
        var sockets: [Int32] = []
        for _ in 0..<20 {
            for fd in sockets { close(fd) }
            let v4 = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            _ = IPEndpoint.loopback(.ipv4, 0).withSockaddr { bind(v4, $0, $1) }
            port = TestSockets.localEndpoint(v4)!.port
            let v6 = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            sockets = [v4, v6]
            if IPEndpoint.loopback(.ipv6, port).withSockaddr({ bind(v6, $0, $1) }) == 0 { break }
        }
        var pipeFDs: [Int32] = [0, 0]
        pipe(&pipeFDs)
        self.port = port
        self.sockets = sockets
        self.wakeup = pipeFDs
        let stopAt = Date().addingTimeInterval(lifetimeSeconds)
        Thread { [self] in
            echoLoop(until: stopAt)
            finished.lock()
            running = false
            finished.broadcast()
            finished.unlock()
        }.start()
    }

    private func echoLoop(until stopAt: Date) {
        var fds = sockets.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        fds.append(pollfd(fd: wakeup[0], events: Int16(POLLIN), revents: 0))
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while Date() < stopAt {
            guard poll(&fds, nfds_t(fds.count), 500) > 0 else { continue }
            if fds.last!.revents != 0 { return }
            for i in 0..<sockets.count where fds[i].revents != 0 {
                var source = sockaddr_storage()
                var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
                let n = buffer.withUnsafeMutableBytes { b in
                    withUnsafeMutablePointer(to: &source) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            recvfrom(sockets[i], b.baseAddress, b.count, Int32(MSG_DONTWAIT), $0, &length)
                        }
                    }
                }
                guard n >= 0 else { continue }
                _ = buffer.withUnsafeBytes { b in
                    withUnsafePointer(to: &source) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            sendto(sockets[i], b.baseAddress, n, 0, $0, length)
                        }
                    }
                }
            }
        }
    }

    func endpoint(_ family: AddressFamily) -> IPEndpoint { .loopback(family, port) }

    func stop() {
        var byte: UInt8 = 1
        _ = write(wakeup[1], &byte, 1)
        finished.lock()
        while running { finished.wait() }
        finished.unlock()
    }

    deinit {
        stop()
        for fd in sockets + wakeup { close(fd) }
    }
}
