import Foundation
import Socks5
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The kernel's ICMP error queue, read back: what a datagram to a loopback port where nothing
/// listens draws, on sockets of both families.
@Suite struct ICMPErrorQueueTests {
    /// A UDP port on loopback with nothing bound to it: bound, then released.
    static func closedPort(_ family: AddressFamily) -> UInt16 {
        let fd = TestSockets.datagram(family)
        defer { close(fd) }
        return TestSockets.localEndpoint(fd)!.port
    }

    static func waitForError(_ fd: Int32) -> ICMPError? {
        for _ in 0..<100 {
            if let error = ICMPErrorQueue.next(fd) { return error }
            usleep(10_000)
        }
        return nil
    }

    @Test(arguments: [AddressFamily.ipv4, .ipv6])
    func aDatagramToAClosedPortDrawsAPortUnreachable(_ family: AddressFamily) {
        let fd = TestSockets.datagram(family)
        defer { close(fd) }
        #expect(ICMPErrorQueue.enable(fd))
        let closed = IPEndpoint.loopback(family, Self.closedPort(family))
        _ = closed.withSockaddr { sendto(fd, "x", 1, 0, $0, $1) }
        let error = Self.waitForError(fd)
        #expect(error?.kind == .portUnreachable, "\(String(describing: error))")
        #expect(error?.isICMPv6 == (family == .ipv6))
        #expect(error?.errnoValue == ECONNREFUSED)
        #expect(error?.destination == closed)
        #expect(error?.sender == closed.address)
        #expect(ICMPErrorQueue.next(fd) == nil, "the queue held one error, taken once")
    }

    @Test func aDualStackSocketSeesICMPv4ForAMappedPeer() throws {
        let fd = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var off: Int32 = 0
        setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &off, socklen_t(MemoryLayout<Int32>.size))
        #expect(ICMPErrorQueue.enable(fd))
        let closed = IPEndpoint.loopback(.ipv4, Self.closedPort(.ipv4))
        let mapped = IPEndpoint(try #require(IPAddress("::ffff:127.0.0.1")), port: closed.port)
        _ = mapped.withSockaddr { sendto(fd, "x", 1, 0, $0, $1) }
        let error = Self.waitForError(fd)
        #expect(error?.kind == .portUnreachable)
        #expect(error?.isICMPv6 == false)
        #expect(error?.destination == closed, "the mapped destination is given as the IPv4 one")
    }

    @Test func withoutEnablingNothingIsQueued() {
        let fd = TestSockets.datagram(.ipv4)
        defer { close(fd) }
        _ = IPEndpoint.loopback(.ipv4, Self.closedPort(.ipv4)).withSockaddr { sendto(fd, "x", 1, 0, $0, $1) }
        usleep(100_000)
        #expect(ICMPErrorQueue.next(fd) == nil)
    }
}
