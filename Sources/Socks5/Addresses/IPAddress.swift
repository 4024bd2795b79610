#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An IPv4 address, held as its 32 bits in network order so that it needs no heap storage.
public struct IPv4Address: Hashable, Sendable {
    /// The address as a number: 127.0.0.1 is 0x7F00_0001.
    public var value: UInt32

    public init(_ value: UInt32) { self.value = value }

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// Parses dotted-quad text ("192.0.2.1"); nil for anything else.
    public init?(_ text: String) {
        var address = in_addr()
        guard inet_pton(AF_INET, text, &address) == 1 else { return nil }
        self.init(inAddr: address)
    }

    public init(inAddr: in_addr) { value = UInt32(bigEndian: inAddr.s_addr) }

    public var inAddr: in_addr { in_addr(s_addr: value.bigEndian) }

    public static let any = IPv4Address(0)
    public static let loopback = IPv4Address(127, 0, 0, 1)

    public var isUnspecified: Bool { value == 0 }
    public var isLoopback: Bool { value >> 24 == 127 }
}

/// An IPv6 address, held as two 64-bit halves (big-endian meaning) so that it needs no heap storage.
public struct IPv6Address: Hashable, Sendable {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Parses RFC 4291 text ("::1", "2001:db8::1"); nil for anything else. No name lookup.
    public init?(_ text: String) {
        var address = in6_addr()
        guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
        self.init(in6Addr: address)
    }

    public init(in6Addr: in6_addr) {
        var copy = in6Addr
        var high: UInt64 = 0
        var low: UInt64 = 0
        withUnsafeBytes(of: &copy) { bytes in
            for i in 0..<8 { high = high << 8 | UInt64(bytes[i]) }
            for i in 8..<16 { low = low << 8 | UInt64(bytes[i]) }
        }
        self.init(high: high, low: low)
    }

    public var in6Addr: in6_addr {
        var address = in6_addr()
        withUnsafeMutableBytes(of: &address) { bytes in
            for i in 0..<8 {
                bytes[i] = UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(i)))
                bytes[8 + i] = UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(i)))
            }
        }
        return address
    }

    /// Byte `index` (0...15) of the address in network order.
    public subscript(byte index: Int) -> UInt8 {
        let half = index < 8 ? high : low
        return UInt8(truncatingIfNeeded: half >> (56 - 8 * UInt64(index % 8)))
    }

    public static let any = IPv6Address(high: 0, low: 0)
    public static let loopback = IPv6Address(high: 0, low: 1)

    public var isUnspecified: Bool { high == 0 && low == 0 }
    public var isLoopback: Bool { self == .loopback }

    /// The IPv4 address inside an IPv4-mapped IPv6 address (::ffff:a.b.c.d), if this is one.
    public var mappedIPv4: IPv4Address? {
        guard high == 0, low >> 32 == 0xFFFF else { return nil }
        return IPv4Address(UInt32(truncatingIfNeeded: low))
    }
}

/// An IPv4 or IPv6 address.
public enum IPAddress: Hashable, Sendable {
    case v4(IPv4Address)
    case v6(IPv6Address)

    /// Parses a literal of either family; nil for anything else (no name lookup, ever).
    public init?(_ text: String) {
        if let v4 = IPv4Address(text) {
            self = .v4(v4)
        } else if let v6 = IPv6Address(text) {
            self = .v6(v6)
        } else {
            return nil
        }
    }

    public var family: AddressFamily {
        switch self {
        case .v4: .ipv4
        case .v6: .ipv6
        }
    }

    public var isUnspecified: Bool {
        switch self {
        case .v4(let a): a.isUnspecified
        case .v6(let a): a.isUnspecified
        }
    }

    public var isLoopback: Bool {
        switch self {
        case .v4(let a): a.isLoopback
        case .v6(let a): a.isLoopback || (a.mappedIPv4?.isLoopback ?? false)
        }
    }

    /// The all-zero address of a family: 0.0.0.0 or ::.
    public static func unspecified(_ family: AddressFamily) -> IPAddress {
        family == .ipv4 ? .v4(.any) : .v6(.any)
    }

    /// An IPv4-mapped IPv6 address becomes the IPv4 address it carries, so that a relay seen
    /// through a dual-stack socket compares equal to the same relay seen through an IPv4 one.
    public var unmapped: IPAddress {
        if case .v6(let a) = self, let v4 = a.mappedIPv4 { return .v4(v4) }
        return self
    }
}

/// The two address families SOCKS5 carries as addresses.
public enum AddressFamily: Sendable, Hashable, CustomStringConvertible {
    case ipv4
    case ipv6

    public var rawFamily: Int32 { self == .ipv4 ? AF_INET : AF_INET6 }

    public init?(rawFamily: Int32) {
        switch rawFamily {
        case AF_INET: self = .ipv4
        case AF_INET6: self = .ipv6
        default: return nil
        }
    }

    public var description: String { self == .ipv4 ? "IPv4" : "IPv6" }
}

extension IPv4Address: CustomStringConvertible {
    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }
}

extension IPv6Address: CustomStringConvertible {
    public var description: String {
        var address = in6Addr
        // INET6_ADDRSTRLEN (46) bytes on the stack; inet_ntop gives the RFC 5952 form.
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 46) { text in
            guard inet_ntop(AF_INET6, &address, text.baseAddress, 46) != nil else { return "?" }
            return String(cString: text.baseAddress!)
        }
    }
}

extension IPAddress: CustomStringConvertible {
    public var description: String {
        switch self {
        case .v4(let a): a.description
        case .v6(let a): a.description
        }
    }
}
