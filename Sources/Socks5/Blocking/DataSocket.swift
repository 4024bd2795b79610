#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The UDP data socket of an association, made before the request so that the request can
/// declare its port. Dual-stack (AF_INET6 with IPV6_V6ONLY off) so that it reaches a rendezvous of
/// either family: the family of BND is the server's choice, learnt only from the reply.
public enum DataSocket {
    /// A bound, unconnected SOCK_DGRAM socket and its local endpoint, on `port` (0: any free one).
    /// Falls back to an IPv4 socket when the host has no IPv6 (then only an IPv4 rendezvous can be
    /// reached).
    public static func open(port: UInt16 = 0) throws(SOCKS5Error) -> (fd: Int32, local: IPEndpoint) {
        var fd = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var wildcard = IPEndpoint(.unspecified(.ipv6), port: port)
        if fd >= 0 {
            var off: Int32 = 0
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &off, socklen_t(MemoryLayout<Int32>.size))
        } else {
            fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            wildcard = IPEndpoint(.unspecified(.ipv4), port: port)
        }
        guard fd >= 0 else { throw .system(errno, "socket(SOCK_DGRAM)") }
        guard wildcard.withSockaddr({ bind(fd, $0, $1) }) == 0 else {
            let e = errno
            close(fd)
            throw .system(e, "bind the data socket")
        }
        return (fd, IPEndpoint.local(of: fd) ?? wildcard)
    }

    /// `destination` as a socket of `socketFamily` must be given it: an IPv4 address becomes
    /// IPv4-mapped (::ffff:a.b.c.d) for an IPv6 socket, which sends it as IPv4 on the wire.
    public static func address(_ destination: IPEndpoint, for socketFamily: AddressFamily) -> IPEndpoint {
        guard socketFamily == .ipv6, case .v4(let v4) = destination.address else { return destination }
        return IPEndpoint(.v6(IPv6Address(high: 0, low: 0xFFFF_0000_0000 | UInt64(v4.value))), port: destination.port)
    }
}
