/// A domain name as SOCKS5 carries it (ATYP 03): 1 to 255 bytes, no NUL, sent as is and never
/// resolved by the client.
public struct DomainName: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// nil when the name is empty, longer than 255 bytes or contains a NUL.
    public init?(_ text: String) {
        self.init(bytes: Array(text.utf8))
    }

    public init?(bytes: [UInt8]) {
        guard (1...255).contains(bytes.count), !bytes.contains(0) else { return nil }
        self.bytes = bytes
    }

    public var description: String { String(decoding: bytes, as: UTF8.self) }
}

/// An address as it stands in a SOCKS5 request, reply or UDP header: ATYP, ADDR and PORT.
public enum SOCKSAddress: Hashable, Sendable {
    case ip(IPEndpoint)
    case domain(DomainName, port: UInt16)

    public var port: UInt16 {
        switch self {
        case .ip(let e): e.port
        case .domain(_, let port): port
        }
    }

    /// The ATYP byte.
    public var addressType: AddressType {
        switch self {
        case .ip(let e): e.family == .ipv4 ? .ipv4 : .ipv6
        case .domain: .domainName
        }
    }

    /// Bytes this address takes on the wire: ATYP, ADDR, PORT.
    public var encodedLength: Int {
        switch self {
        case .ip(let e): e.family == .ipv4 ? 1 + 4 + 2 : 1 + 16 + 2
        case .domain(let name, _): 1 + 1 + name.bytes.count + 2
        }
    }

    /// A destination as people write it: "192.0.2.1:53", "[2001:db8::1]:53", or "dns.example:53"
    /// (a name, carried as ATYP 3 for the server to resolve). nil for anything else, and for port
    /// 0, where no datagram can go. The CLI's TARGET and the TUI's send form both read it here.
    public init?(destination text: String) {
        if let endpoint = IPEndpoint(text) {
            guard endpoint.port != 0 else { return nil }
            self = .ip(endpoint)
            return
        }
        guard !text.hasPrefix("["), let (host, port) = HostPort.split(text), port != 0, let name = DomainName(host)
        else {
            return nil
        }
        self = .domain(name, port: port)
    }

    /// A destination whose port may be left out: "host", "192.0.2.1", "2001:db8::1", "[2001:db8::1]"
    /// take `defaultPort`; "host:port" and "[v6]:port" keep theirs. What `check` reads its targets
    /// with (a resolver on 53, a STUN server on 3478).
    public init?(destination text: String, defaultPort: UInt16) {
        if let full = SOCKSAddress(destination: text) {
            self = full
        } else if text.hasPrefix("["), text.hasSuffix("]") {
            guard let a = SOCKSAddress(destination: text + ":\(defaultPort)") else { return nil }
            self = a
        } else if IPAddress(text) != nil, text.contains(":") {
            guard let a = SOCKSAddress(destination: "[\(text)]:\(defaultPort)") else { return nil }
            self = a
        } else {
            guard let a = SOCKSAddress(destination: text + ":\(defaultPort)") else { return nil }
            self = a
        }
    }

    /// The all-zero address of a family (0.0.0.0:0 or [::]:0): what a UDP ASSOCIATE declares
    /// when the client does not say where it will send from.
    public static func unspecified(_ family: AddressFamily) -> SOCKSAddress {
        .ip(IPEndpoint(.unspecified(family), port: 0))
    }

    public var endpoint: IPEndpoint? {
        if case .ip(let e) = self { return e }
        return nil
    }

    func write(to writer: inout ByteWriter) {
        writer.write(addressType.rawValue)
        switch self {
        case .ip(let e):
            switch e.address {
            case .v4(let a): writer.write(a.value)
            case .v6(let a):
                writer.write(a.high)
                writer.write(a.low)
            }
        case .domain(let name, _):
            writer.write(UInt8(name.bytes.count))
            writer.write(name.bytes)
        }
        writer.write(port)
    }

    /// Reads ATYP, ADDR and PORT. Returns nil when more bytes are needed, and says how many the
    /// whole address needs (as far as can be known) through `needed`.
    static func read(from reader: inout ByteReader, needed: inout Int) throws(ProtocolViolation) -> SOCKSAddress? {
        let start = reader.offset
        guard let atyp = reader.peekUInt8() else {
            needed = start + 1
            return nil
        }
        switch AddressType(rawValue: atyp) {
        case .ipv4:
            guard reader.remaining >= 7 else {
                needed = start + 7
                return nil
            }
            reader.skip(1)
            let a = IPv4Address(reader.readUInt32())
            return .ip(IPEndpoint(.v4(a), port: reader.readUInt16()))
        case .ipv6:
            guard reader.remaining >= 19 else {
                needed = start + 19
                return nil
            }
            reader.skip(1)
            let high = reader.readUInt64()
            let low = reader.readUInt64()
            return .ip(IPEndpoint(.v6(IPv6Address(high: high, low: low)), port: reader.readUInt16()))
        case .domainName:
            guard reader.remaining >= 2 else {
                needed = start + 2
                return nil
            }
            let length = Int(reader.peekUInt8(at: 1)!)
            guard length > 0 else { throw .emptyDomainName }
            guard reader.remaining >= 2 + length + 2 else {
                needed = start + 2 + length + 2
                return nil
            }
            reader.skip(2)
            let bytes = reader.readBytes(length)
            guard let name = DomainName(bytes: bytes) else { throw .domainNameWithNUL }
            return .domain(name, port: reader.readUInt16())
        case nil:
            throw .unknownAddressType(atyp)
        }
    }
}

extension SOCKSAddress: CustomStringConvertible {
    public var description: String {
        switch self {
        case .ip(let e): e.description
        case .domain(let name, let port): "\(name):\(port)"
        }
    }
}
