import Foundation
import Socks5

/// Small socket helpers for the tests, on the library's own address types.
enum TestSockets {
    /// A port free for TCP and UDP on both 127.0.0.1 and ::1 (bound to port 0, then released).
    /// UDP too: servers such as v2ray also bind UDP on their listen port, and a machine running
    /// many associations (each a dual-stack UDP socket on [::]) holds a good share of the range.
    static func freePort() -> UInt16 {
        for _ in 0..<50 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            let any = IPEndpoint(.v4(.loopback), port: 0)
            _ = any.withSockaddr { bind(fd, $0, $1) }
            guard let port = localEndpoint(fd)?.port else { continue }
            // The same port must be free on ::1 too (Dante listens on both), and for UDP.
            let others = [
                (IPEndpoint(.v6(.loopback), port: port), SOCK_STREAM),
                (IPEndpoint(.v4(.loopback), port: port), SOCK_DGRAM),
                (IPEndpoint(.v6(.loopback), port: port), SOCK_DGRAM),
            ]
            let sockets = others.map { socket($0.0.family.rawFamily, Int32($0.1.rawValue), 0) }
            defer { for s in sockets { close(s) } }
            let ok = zip(others, sockets).allSatisfy { other, s in other.0.withSockaddr { bind(s, $0, $1) } == 0 }
            if ok { return port }
        }
        fatalError("no free port")
    }

    static func localEndpoint(_ fd: Int32) -> IPEndpoint? { IPEndpoint.local(of: fd) }

    static func canConnect(host: String, port: UInt16) -> Bool {
        guard let address = IPAddress(host) else { return false }
        let endpoint = IPEndpoint(address, port: port)
        let fd = socket(endpoint.family.rawFamily, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        return endpoint.withSockaddr { connect(fd, $0, $1) } == 0
    }

    static func stream(_ family: AddressFamily) -> Int32 {
        socket(family.rawFamily, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    }

    /// A UDP socket bound to the loopback address of its family, with a receive timeout so that
    /// a lost datagram fails a test instead of hanging it.
    static func datagram(_ family: AddressFamily, receiveTimeoutMilliseconds: Int = 3000) -> Int32 {
        let fd = socket(family.rawFamily, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        let local = IPEndpoint(family == .ipv4 ? .v4(.loopback) : .v6(.loopback), port: 0)
        _ = local.withSockaddr { bind(fd, $0, $1) }
        setReceiveTimeout(fd, milliseconds: receiveTimeoutMilliseconds)
        return fd
    }

    static func setReceiveTimeout(_ fd: Int32, milliseconds: Int) {
        var tv = timeval(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// The number of open file descriptors of this process.
    static func openDescriptorCount() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
    }
}

extension IPEndpoint {
    static func loopback(_ family: AddressFamily, _ port: UInt16) -> IPEndpoint {
        IPEndpoint(family == .ipv4 ? .v4(.loopback) : .v6(.loopback), port: port)
    }
}
