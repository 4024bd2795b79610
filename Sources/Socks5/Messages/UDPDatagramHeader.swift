/// The header in front of every relayed datagram, both ways (RFC 1928 section 7):
/// `RSV(2)=0000 FRAG(1) ATYP(1) DST.ADDR DST.PORT`, then the payload.
///
/// Client to relay, the address is the final target; relay to client, the remote sender.
/// Building and parsing a header with an IP address touches no heap: the address is held inline
/// and the bytes go to or come from memory the caller owns (a domain name is the one exception
/// on parse, since it has to be stored somewhere).
public struct UDPDatagramHeader: Hashable, Sendable {
    /// 0 for a whole datagram; 1...127 a fragment's position, the high bit marking the last.
    public var fragment: UInt8
    public var address: SOCKSAddress

    public init(fragment: UInt8 = 0, address: SOCKSAddress) {
        self.fragment = fragment
        self.address = address
    }

    /// The longest header: a 255-byte domain name.
    public static let maximumLength = 3 + 1 + 1 + 255 + 2

    public var encodedLength: Int { 3 + address.encodedLength }

    /// Writes the header at the start of `buffer` (at least `encodedLength` bytes) and returns
    /// its length.
    @discardableResult
    public func write(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        var w = ByteWriter(buffer)
        w.write(UInt16(0))
        w.write(fragment)
        address.write(to: &w)
        return w.offset
    }

    /// Parses the header of a whole datagram. Returns the header and the offset of the payload.
    public static func parse(
        _ datagram: UnsafeRawBufferPointer
    ) throws(MalformedDatagram) -> (header: UDPDatagramHeader, payloadOffset: Int) {
        var r = ByteReader(datagram)
        // RSV is not checked: it carries no meaning and a lenient reader loses nothing.
        guard r.remaining >= 4 else { throw .truncated(length: datagram.count) }
        r.skip(2)
        let fragment = r.readUInt8()
        var needed = 0
        let address: SOCKSAddress?
        do {
            address = try SOCKSAddress.read(from: &r, needed: &needed)
        } catch {
            throw .badAddress(error)
        }
        guard let address else { throw .truncated(length: datagram.count) }
        return (UDPDatagramHeader(fragment: fragment, address: address), r.offset)
    }
}

/// Why a datagram's header could not be read.
public enum MalformedDatagram: Error, Hashable, Sendable {
    /// The datagram ends before its header does (including a header that claims a longer
    /// address than the datagram holds).
    case truncated(length: Int)
    case badAddress(ProtocolViolation)
}

/// The largest UDP payload over IPv4 and IPv6 (65,535 minus the IP and UDP headers).
public enum UDPLimits {
    public static func maximumPayload(_ family: AddressFamily) -> Int {
        family == .ipv4 ? 65_507 : 65_527
    }
}
