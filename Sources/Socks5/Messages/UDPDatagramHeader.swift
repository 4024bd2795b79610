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

/// The largest UDP payload over IPv4 and IPv6 (65,535 minus the IP and UDP headers), and what is
/// left of it for an application's bytes once the SOCKS5 header is in: the one size rule every
/// sender asks (the library's sends, the engine's, the CLI's checks before it opens anything).
public enum UDPLimits {
    public static func maximumPayload(_ family: AddressFamily) -> Int {
        family == .ipv4 ? 65_507 : 65_527
    }

    /// The most payload any SOCKS5 datagram carries: to an IPv4 target through an IPv6 rendezvous.
    public static let largestPayload = 65_517

    /// The most payload one datagram to `target` carries through a rendezvous of `relay`'s family:
    /// 65,497 bytes to an IPv4 target over an IPv4 rendezvous, 65,485 to an IPv6 one.
    public static func maximumPayload(to target: SOCKSAddress, over relay: AddressFamily) -> Int {
        maximumPayload(relay) - UDPDatagramHeader(address: target).encodedLength
    }

    /// Why `length` bytes to `target` do not fit through a rendezvous of `relay`'s family, in words;
    /// nil when they fit.
    public static func tooLarge(_ length: Int, to target: SOCKSAddress, over relay: AddressFamily) -> String? {
        let limit = maximumPayload(to: target, over: relay)
        guard length > limit else { return nil }
        let header = UDPDatagramHeader(address: target).encodedLength
        return "\(length) bytes do not fit in one datagram to \(target) through an \(relay) rendezvous: at most "
            + "\(limit) do (the \(relay) UDP maximum of \(maximumPayload(relay)) less the \(header)-byte SOCKS5 header)"
    }
}
