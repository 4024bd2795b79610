import CSocks5
import Foundation
import Testing

@testable import Socks5

/// socks5_getserv and socks5tcp_connect's server choice, through the C entry points, with
/// SOCKS5C_CONFIG naming a file the test writes. Serialized: they set the environment.
@Suite(.serialized) struct GetservTests {
    private func withConfiguration<T>(_ text: String?, _ body: () throws -> T) throws -> T {
        let dir = try makeTemporaryDirectory("conf")
        defer {
            try? FileManager.default.removeItem(atPath: dir)
            unsetenv("SOCKS5C_CONFIG")
        }
        let path = dir + "/socks5c.conf"
        if let text { try text.write(toFile: path, atomically: true, encoding: .utf8) }
        setenv("SOCKS5C_CONFIG", path, 1)
        return try body()
    }

    /// Calls socks5_getserv for `destination` with a buffer of `capacity` bytes.
    private func getserv(_ destination: IPEndpoint, capacity: Int? = nil) -> (IPEndpoint?, Int32, Bool) {
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { _ = destination.write(to: $0.baseAddress!) }
        errno = 0
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                socks5_getserv($0, capacity ?? destination.sockaddrLength)
            }
        }
        let e = errno
        return (result == nil ? nil : IPEndpoint(storage: storage), e, result == nil)
    }

    @Test func picksTheServerOfTheBestRecord() throws {
        try withConfiguration("127.0.0.0/8 127.0.0.1:1090\n127.0.0.5 NONE\n::1 [::1]:1091\n0.0.0.0/0 192.0.2.1\n") {
            #expect(getserv(IPEndpoint("127.0.0.9:80")!).0 == IPEndpoint("127.0.0.1:1090"))
            #expect(getserv(IPEndpoint("[::1]:80")!).0 == IPEndpoint("[::1]:1091"))
            #expect(getserv(IPEndpoint("198.51.100.1:80")!).0 == IPEndpoint("192.0.2.1:1080"))
            // NONE and no match: NULL with errno untouched.
            #expect(getserv(IPEndpoint("127.0.0.5:80")!) == (nil, 0, true))
            #expect(getserv(IPEndpoint("[2001:db8::1]:80")!) == (nil, 0, true))
        }
    }

    @Test func anIPv6ServerForAnIPv4SizedBufferIsENOMEM() throws {
        try withConfiguration("0.0.0.0/0 [::1]:1080\n") {
            #expect(getserv(IPEndpoint("127.0.0.1:80")!) == (nil, ENOMEM, true))
            // With room for it, the IPv6 server is written.
            #expect(
                getserv(IPEndpoint("127.0.0.1:80")!, capacity: MemoryLayout<sockaddr_in6>.size).0
                    == IPEndpoint("[::1]:1080")
            )
        }
    }

    @Test func errorsSetErrno() throws {
        try withConfiguration("127.0.0.0/99 127.0.0.1\n") {
            socks5_errno = 0
            #expect(getserv(IPEndpoint("127.0.0.1:80")!) == (nil, EINVAL, true))
            // socks5_errno tells a malformed file from a bad argument, which errno alone cannot.
            #expect(socks5_errno == S5_ECONFIG)
        }
        try withConfiguration(nil) { #expect(getserv(IPEndpoint("127.0.0.1:80")!) == (nil, ENOENT, true)) }
        errno = 0
        #expect(socks5_getserv(nil, 16) == nil && errno == EFAULT)
        var shortBuffer = sockaddr_in()
        shortBuffer.sin_family = sa_family_t(AF_INET)
        let r = withUnsafeMutablePointer(to: &shortBuffer) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { socks5_getserv($0, 8) }
        }
        #expect(r == nil && errno == EINVAL)
    }

    @Test(.tags(.peers), .needsPeers) func connectWithoutAServerUsesTheConfiguration() throws {
        let peers = try TestPeers.shared()
        let target = TCPEchoServer()
        try withConfiguration("127.0.0.0/8 127.0.0.1:\(peers.danteNoAuth.port)\n") {
            let fd = TestSockets.stream(.ipv4)
            defer { close(fd) }
            var dst = sockaddr_storage()
            let length = withUnsafeMutableBytes(of: &dst) { target.endpoint.write(to: $0.baseAddress!) }
            let rc = withUnsafeMutablePointer(to: &dst) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { socks5tcp_connect(fd, $0, length, nil, 0) }
            }
            #expect(rc == 0)
            #expect(target.echoOnce(through: fd, Array("configured".utf8)) == Array("configured".utf8))
        }
        try withConfiguration("0.0.0.0/0 NONE\n") {
            let fd = TestSockets.stream(.ipv4)
            defer { close(fd) }
            var dst = sockaddr_storage()
            let length = withUnsafeMutableBytes(of: &dst) { target.endpoint.write(to: $0.baseAddress!) }
            socks5_errno = 0
            let rc = withUnsafeMutablePointer(to: &dst) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { socks5tcp_connect(fd, $0, length, nil, 0) }
            }
            #expect(rc == -1 && socks5_errno == S5_ENOSERV)
        }
        try withConfiguration("0.0.0.0/0 none\n") {
            let fd = TestSockets.stream(.ipv4)
            defer { close(fd) }
            var dst = sockaddr_storage()
            let length = withUnsafeMutableBytes(of: &dst) { target.endpoint.write(to: $0.baseAddress!) }
            socks5_errno = 0
            let rc = withUnsafeMutablePointer(to: &dst) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { socks5tcp_connect(fd, $0, length, nil, 0) }
            }
            #expect(rc == -1 && socks5_errno == S5_ECONFIG && errno == EINVAL)
        }
    }
}
