import NIOCore
import Socks5

#if canImport(Glibc)
import Glibc
#endif

// The bridge between the library's addresses and SwiftNIO's, shared by the engine and the relay.
// Through sockaddr, not text: converting a datagram's source costs no allocation.
extension IPEndpoint {
    /// The NIO address as the library's endpoint; nil for a Unix-domain address.
    package init?(_ address: SocketAddress?) {
        switch address {
        case .v4(let a)?:
            var sin = a.address
            guard let e = withUnsafeBytes(of: &sin, { try? IPEndpoint(sockaddr: $0.baseAddress!, length: $0.count) })
            else { return nil }
            self = e
        case .v6(let a)?:
            var sin6 = a.address
            guard let e = withUnsafeBytes(of: &sin6, { try? IPEndpoint(sockaddr: $0.baseAddress!, length: $0.count) })
            else { return nil }
            self = e
        default:
            return nil
        }
    }

    /// The endpoint as a NIO address.
    package var nioAddress: SocketAddress {
        var storage = sockaddr_storage()
        _ = withUnsafeMutableBytes(of: &storage) { write(to: $0.baseAddress!) }
        switch address {
        case .v4:
            return SocketAddress(withUnsafeBytes(of: &storage) { $0.loadUnaligned(as: sockaddr_in.self) }, host: "")
        case .v6:
            return SocketAddress(withUnsafeBytes(of: &storage) { $0.loadUnaligned(as: sockaddr_in6.self) }, host: "")
        }
    }
}
