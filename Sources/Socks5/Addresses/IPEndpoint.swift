#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An IP address and a port: what a `struct sockaddr_in` or `sockaddr_in6` holds.
public struct IPEndpoint: Hashable, Sendable {
    public var address: IPAddress
    public var port: UInt16

    public init(_ address: IPAddress, port: UInt16) {
        self.address = address
        self.port = port
    }

    public var family: AddressFamily { address.family }

    /// Parses "192.0.2.1:1080" or "[2001:db8::1]:1080" (literals only; no name lookup).
    public init?(_ text: String) {
        guard let (host, port) = HostPort.split(text), let address = IPAddress(host) else { return nil }
        self.init(address, port: port)
    }

    /// Reads a sockaddr_in or sockaddr_in6. The family comes from sa_family and is checked
    /// against `length` (sa_len is never read: AIX allows COMPAT_43 builds).
    public init(sockaddr pointer: UnsafeRawPointer, length: Int) throws(SockaddrError) {
        guard length >= MemoryLayout<sa_family_t>.size else { throw .tooShort }
        let family = Int32(pointer.loadUnaligned(as: sa_family_t.self))
        switch family {
        case AF_INET:
            guard length >= MemoryLayout<sockaddr_in>.size else { throw .tooShort }
            let sin = pointer.loadUnaligned(as: sockaddr_in.self)
            self.init(.v4(IPv4Address(inAddr: sin.sin_addr)), port: UInt16(bigEndian: sin.sin_port))
        case AF_INET6:
            guard length >= MemoryLayout<sockaddr_in6>.size else { throw .tooShort }
            let sin6 = pointer.loadUnaligned(as: sockaddr_in6.self)
            self.init(.v6(IPv6Address(in6Addr: sin6.sin6_addr)), port: UInt16(bigEndian: sin6.sin6_port))
        default:
            throw .unsupportedFamily(family)
        }
    }

    /// The size of the sockaddr this endpoint is written as.
    public var sockaddrLength: Int {
        family == .ipv4 ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size
    }

    /// Writes the endpoint as a sockaddr_in or sockaddr_in6 at `pointer`, which must hold at least
    /// `sockaddrLength` bytes. Returns the number of bytes written.
    @discardableResult
    public func write(to pointer: UnsafeMutableRawPointer) -> Int {
        switch address {
        case .v4(let a):
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = port.bigEndian
            sin.sin_addr = a.inAddr
            pointer.storeBytes(of: sin, as: sockaddr_in.self)
            return MemoryLayout<sockaddr_in>.size
        case .v6(let a):
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = port.bigEndian
            sin6.sin6_addr = a.in6Addr
            pointer.storeBytes(of: sin6, as: sockaddr_in6.self)
            return MemoryLayout<sockaddr_in6>.size
        }
    }

    /// Calls `body` with this endpoint as a sockaddr on the stack.
    public func withSockaddr<R, E: Error>(
        _ body: (UnsafePointer<sockaddr>, socklen_t) throws(E) -> R
    ) throws(E) -> R {
        var storage = sockaddr_storage()
        let length = withUnsafeMutableBytes(of: &storage) { write(to: $0.baseAddress!) }
        return try withUnsafePointer(to: &storage) { (p) throws(E) -> R in
            try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { (s) throws(E) -> R in
                try body(s, socklen_t(length))
            }
        }
    }

    /// Reads a sockaddr_storage filled by the kernel (accept, recvmsg, getsockname).
    public init?(storage: sockaddr_storage) {
        var copy = storage
        guard
            let endpoint = withUnsafeBytes(of: &copy, { try? IPEndpoint(sockaddr: $0.baseAddress!, length: $0.count) })
        else { return nil }
        self = endpoint
    }

    /// The local address of a socket (getsockname), or nil.
    public static func local(of fd: Int32) -> IPEndpoint? { socketName(fd, getsockname) }

    /// The address a connected socket is connected to (getpeername), or nil.
    public static func peer(of fd: Int32) -> IPEndpoint? { socketName(fd, getpeername) }

    private static func socketName(
        _ fd: Int32,
        _ call: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32
    ) -> IPEndpoint? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { call(fd, $0, &length) }
        }
        return rc == 0 ? IPEndpoint(storage: storage) : nil
    }

    /// Two endpoints are the same peer when their ports match and their addresses match after
    /// IPv4-mapped IPv6 addresses are unmapped.
    public func isSamePeer(as other: IPEndpoint) -> Bool {
        port == other.port && address.unmapped == other.address.unmapped
    }
}

/// Why a sockaddr could not be read.
public enum SockaddrError: Error, Sendable, Equatable {
    /// The length given is shorter than the family's sockaddr.
    case tooShort
    /// The family is neither AF_INET nor AF_INET6.
    case unsupportedFamily(Int32)
}

extension IPEndpoint: CustomStringConvertible {
    /// "127.0.0.1:1080", "[::1]:1080".
    public var description: String {
        switch address {
        case .v4(let a): "\(a):\(port)"
        case .v6(let a): "[\(a)]:\(port)"
        }
    }
}

/// Splits "host:port", "[v6]:port" text.
enum HostPort {
    static func split(_ text: String) -> (host: String, port: UInt16)? {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":"), let port = UInt16(rest.dropFirst()) else { return nil }
            return (host, port)
        }
        guard let colon = text.lastIndex(of: ":") else { return nil }
        let host = String(text[..<colon])
        // An unbracketed IPv6 literal has more colons: it needs brackets to carry a port.
        guard !host.contains(":"), !host.isEmpty, let port = UInt16(text[text.index(after: colon)...]) else {
            return nil
        }
        return (host, port)
    }
}
