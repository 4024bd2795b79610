import Socks5

/// A UDP datagram found in a captured frame: what `send --replay` sends again.
package struct CapturedDatagram: Sendable, Equatable {
    package var source: IPEndpoint
    package var destination: IPEndpoint
    package var payload: [UInt8]

    package init(source: IPEndpoint, destination: IPEndpoint, payload: [UInt8]) {
        self.source = source
        self.destination = destination
        self.payload = payload
    }
}

/// Finds the UDP datagram in a captured frame of any link type a capture of UDP traffic is
/// likely to have (Ethernet with VLAN tags, Linux cooked v1 and v2, BSD loopback, raw IP).
/// Sans-I/O and total: any bytes give a datagram or a reason, never a crash (it is fuzzed).
/// libpcap reads the files and applies the filter; it does not parse headers for its caller.
package enum UDPFrameDecoder {
    package enum Skip: String, Error, Sendable, Hashable, CaseIterable {
        case unsupportedLinkType = "a link type SocksDeck does not read"
        case notIP = "not IPv4 or IPv6"
        case notUDP = "not UDP"
        case fragment = "an IP fragment (SocksDeck does not reassemble)"
        case truncated = "cut short by the capture's snap length"
    }

    /// The link types as libpcap's pcap_datalink reports them (DLT_ values).
    package enum LinkType {
        package static let null: Int32 = 0  // BSD loopback: a 4-byte family in host order
        package static let ethernet: Int32 = 1
        package static let raw: Set<Int32> = [12, 14, 101]  // DLT_RAW on Linux/BSD/OpenBSD, LINKTYPE_RAW
        package static let loop: Int32 = 108  // OpenBSD loopback: the family in network order
        package static let linuxCooked: Int32 = 113
        package static let ipv4: Int32 = 228
        package static let ipv6: Int32 = 229
        package static let linuxCooked2: Int32 = 276
    }

    package static func decode(linkType: Int32, frame: [UInt8]) -> Result<CapturedDatagram, Skip> {
        var r = Reader(frame)
        switch linkType {
        case LinkType.ethernet:
            guard r.skip(12), var etherType = r.u16() else { return .failure(.truncated) }
            // 802.1Q and 802.1ad tags, stacked.
            while etherType == 0x8100 || etherType == 0x88A8 {
                guard r.skip(2), let inner = r.u16() else { return .failure(.truncated) }
                etherType = inner
            }
            return ip(etherType: etherType, &r)
        case LinkType.linuxCooked:
            guard r.skip(14), let protocolType = r.u16() else { return .failure(.truncated) }
            return ip(etherType: protocolType, &r)
        case LinkType.linuxCooked2:
            guard let protocolType = r.u16(), r.skip(18) else { return .failure(.truncated) }
            return ip(etherType: protocolType, &r)
        case LinkType.null, LinkType.loop:
            guard r.skip(4) else { return .failure(.truncated) }
            return ipByVersion(&r)
        case LinkType.ipv4, LinkType.ipv6:
            return ipByVersion(&r)
        case _ where LinkType.raw.contains(linkType):
            return ipByVersion(&r)
        default:
            return .failure(.unsupportedLinkType)
        }
    }

    private static func ip(etherType: UInt16, _ r: inout Reader) -> Result<CapturedDatagram, Skip> {
        switch etherType {
        case 0x0800: ipv4(&r)
        case 0x86DD: ipv6(&r)
        default: .failure(.notIP)
        }
    }

    private static func ipByVersion(_ r: inout Reader) -> Result<CapturedDatagram, Skip> {
        guard let first = r.peek() else { return .failure(.truncated) }
        switch first >> 4 {
        case 4: return ipv4(&r)
        case 6: return ipv6(&r)
        default: return .failure(.notIP)
        }
    }

    private static func ipv4(_ r: inout Reader) -> Result<CapturedDatagram, Skip> {
        let start = r.offset
        guard let versionAndLength = r.u8(), versionAndLength >> 4 == 4 else { return .failure(.notIP) }
        let headerLength = Int(versionAndLength & 0x0F) * 4
        guard headerLength >= 20, r.skip(1), let totalLength = r.u16(), r.skip(2), let flagsAndOffset = r.u16(),
            r.skip(1), let proto = r.u8(), r.skip(2), let source = r.u32(), let destination = r.u32()
        else { return .failure(.truncated) }
        guard proto == 17 else { return .failure(.notUDP) }
        // More fragments, or an offset: part of a datagram, not one.
        guard flagsAndOffset & 0x3FFF == 0 else { return .failure(.fragment) }
        guard r.seek(start + headerLength) else { return .failure(.truncated) }
        let ipPayload = Int(totalLength) - headerLength
        return udp(.v4(IPv4Address(source)), .v4(IPv4Address(destination)), limit: ipPayload, &r)
    }

    private static func ipv6(_ r: inout Reader) -> Result<CapturedDatagram, Skip> {
        guard let first = r.u8(), first >> 4 == 6, r.skip(3), let payloadLength = r.u16(), var next = r.u8(),
            r.skip(1), let s = r.address16(), let d = r.address16()
        else { return .failure(.truncated) }
        var remaining = Int(payloadLength)
        // Extension headers before UDP: hop-by-hop, routing, destination options; a fragment
        // header means a fragment.
        while next != 17 {
            switch next {
            case 0, 43, 60:
                guard let after = r.u8(), let length = r.u8() else { return .failure(.truncated) }
                let size = (Int(length) + 1) * 8
                guard r.skip(size - 2) else { return .failure(.truncated) }
                remaining -= size
                next = after
            case 44:
                return .failure(.fragment)
            default:
                return .failure(.notUDP)
            }
        }
        return udp(.v6(s), .v6(d), limit: remaining, &r)
    }

    private static func udp(
        _ source: IPAddress,
        _ destination: IPAddress,
        limit: Int,
        _ r: inout Reader
    )
        -> Result<CapturedDatagram, Skip>
    {
        guard let sourcePort = r.u16(), let destinationPort = r.u16(), let length = r.u16(), r.skip(2) else {
            return .failure(.truncated)
        }
        let payloadLength = Int(length) - 8
        guard payloadLength >= 0, limit <= 0 || Int(length) <= limit else { return .failure(.truncated) }
        guard let payload = r.bytes(payloadLength) else { return .failure(.truncated) }
        return .success(
            CapturedDatagram(
                source: IPEndpoint(source, port: sourcePort),
                destination: IPEndpoint(destination, port: destinationPort),
                payload: payload
            )
        )
    }
}

/// Bounds-checked big-endian reads over a frame.
private struct Reader {
    let bytes: [UInt8]
    private(set) var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func peek() -> UInt8? { offset < bytes.count ? bytes[offset] : nil }

    mutating func skip(_ n: Int) -> Bool {
        guard n >= 0, offset + n <= bytes.count else { return false }
        offset += n
        return true
    }

    mutating func seek(_ to: Int) -> Bool {
        guard to >= offset, to <= bytes.count else { return false }
        offset = to
        return true
    }

    mutating func u8() -> UInt8? {
        guard offset < bytes.count else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() -> UInt16? {
        guard offset + 2 <= bytes.count else { return nil }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func u32() -> UInt32? {
        guard let high = u16(), let low = u16() else { return nil }
        return UInt32(high) << 16 | UInt32(low)
    }

    mutating func address16() -> IPv6Address? {
        guard offset + 16 <= bytes.count else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for i in 0..<8 { high = high << 8 | UInt64(bytes[offset + i]) }
        for i in 8..<16 { low = low << 8 | UInt64(bytes[offset + i]) }
        offset += 16
        return IPv6Address(high: high, low: low)
    }

    mutating func bytes(_ n: Int) -> [UInt8]? {
        guard n >= 0, offset + n <= bytes.count else { return nil }
        defer { offset += n }
        return Array(bytes[offset..<offset + n])
    }
}
