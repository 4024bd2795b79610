#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Host names to addresses, through the system resolver (getaddrinfo): the first IPv4 or IPv6
/// address. Literals never need it; everything that does resolve a name comes through here.
/// It blocks: call it off any event loop.
public enum NameResolution {
    public static func resolve(_ host: String, port: UInt16, datagram: Bool = false) -> IPEndpoint? {
        resolveAll(host, port: port, datagram: datagram).first
    }

    /// Every address the name has, in the resolver's order (both families: an unspecified BND
    /// is replaced by an address of its own family, which may not be the first).
    public static func resolveAll(_ host: String, port: UInt16, datagram: Bool = false) -> [IPEndpoint] {
        var hints = addrinfo()
        hints.ai_socktype = datagram ? Int32(SOCK_DGRAM.rawValue) : Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0 else { return [] }
        defer { freeaddrinfo(result) }
        var found: [IPEndpoint] = []
        var cursor = result
        while let info = cursor {
            if let address = info.pointee.ai_addr,
                var endpoint = try? IPEndpoint(sockaddr: address, length: Int(info.pointee.ai_addrlen))
            {
                endpoint.port = port
                if !found.contains(endpoint) { found.append(endpoint) }
            }
            cursor = info.pointee.ai_next
        }
        return found
    }
}
