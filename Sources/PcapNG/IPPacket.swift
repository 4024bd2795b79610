import Socks5

/// Synthesised IP packets: what the kernel would have put on the wire for a datagram or a TCP
/// segment that SocksDeck saw at the socket, so that a capture reader decodes them as usual.
/// Checksums are real (Wireshark flags a wrong one); IPv4 gets DF and TTL 64, IPv6 hop limit 64.
package enum IPPacket {
    /// The largest payload an IP packet can carry here; longer payloads are cut in the capture
    /// (the block's original length still says how long it was).
    static func maximumPayload(_ family: AddressFamily) -> Int { family == .ipv4 ? 65_515 : 65_535 }

    /// A UDP datagram from `source` to `destination` (both of one family: see `CaptureEndpoints`).
    package static func udp(from source: IPEndpoint, to destination: IPEndpoint, payload: [UInt8]) -> [UInt8] {
        let (source, destination) = oneFamily(source, destination)
        let body = Array(payload.prefix(maximumPayload(source.family) - 8))
        var segment: [UInt8] = []
        segment.reserveCapacity(8 + body.count)
        appendBigEndian(source.port, to: &segment)
        appendBigEndian(destination.port, to: &segment)
        appendBigEndian(UInt16(8 + body.count), to: &segment)
        appendBigEndian(UInt16(0), to: &segment)
        segment += body
        var sum = pseudoHeaderSum(source.address, destination.address, protocol: 17, length: segment.count)
        sum = onesComplementSum(segment, initial: sum)
        var checksum = ~fold(sum)
        if checksum == 0 { checksum = 0xFFFF }  // 0 means "no checksum" for UDP
        segment[6] = UInt8(checksum >> 8)
        segment[7] = UInt8(checksum & 0xFF)
        return ipHeader(source.address, destination.address, protocol: 17, payloadLength: segment.count) + segment
    }

    /// The TCP flags SocksDeck synthesises.
    package struct TCPFlags: OptionSet, Sendable {
        package let rawValue: UInt8
        package init(rawValue: UInt8) { self.rawValue = rawValue }
        package static let fin = TCPFlags(rawValue: 0x01)
        package static let syn = TCPFlags(rawValue: 0x02)
        package static let rst = TCPFlags(rawValue: 0x04)
        package static let psh = TCPFlags(rawValue: 0x08)
        package static let ack = TCPFlags(rawValue: 0x10)
    }

    /// A TCP segment with a 20-byte header (no options) and a fixed window.
    package static func tcp(
        from source: IPEndpoint,
        to destination: IPEndpoint,
        sequence: UInt32,
        acknowledgment: UInt32,
        flags: TCPFlags,
        payload: [UInt8]
    ) -> [UInt8] {
        let (source, destination) = oneFamily(source, destination)
        var segment: [UInt8] = []
        segment.reserveCapacity(20 + payload.count)
        appendBigEndian(source.port, to: &segment)
        appendBigEndian(destination.port, to: &segment)
        appendBigEndian(sequence, to: &segment)
        appendBigEndian(flags.contains(.ack) ? acknowledgment : 0, to: &segment)
        segment.append(5 << 4)  // data offset: five 32-bit words
        segment.append(flags.rawValue)
        appendBigEndian(UInt16(65_535), to: &segment)  // window
        appendBigEndian(UInt16(0), to: &segment)  // checksum, below
        appendBigEndian(UInt16(0), to: &segment)  // urgent pointer
        segment += payload
        var sum = pseudoHeaderSum(source.address, destination.address, protocol: 6, length: segment.count)
        sum = onesComplementSum(segment, initial: sum)
        let checksum = ~fold(sum)
        segment[16] = UInt8(checksum >> 8)
        segment[17] = UInt8(checksum & 0xFF)
        return ipHeader(source.address, destination.address, protocol: 6, payloadLength: segment.count) + segment
    }

    private static func ipHeader(
        _ source: IPAddress,
        _ destination: IPAddress,
        protocol: UInt8,
        payloadLength: Int
    )
        -> [UInt8]
    {
        var header: [UInt8] = []
        switch (source, destination) {
        case (.v4(let s), .v4(let d)):
            header.reserveCapacity(20)
            header.append(0x45)  // version 4, header length 5 words
            header.append(0)
            appendBigEndian(UInt16(20 + payloadLength), to: &header)
            appendBigEndian(UInt16(0), to: &header)  // identification
            appendBigEndian(UInt16(0x4000), to: &header)  // DF, offset 0
            header.append(64)
            header.append(`protocol`)
            appendBigEndian(UInt16(0), to: &header)
            appendBigEndian(s.value, to: &header)
            appendBigEndian(d.value, to: &header)
            let checksum = ~fold(onesComplementSum(header, initial: 0))
            header[10] = UInt8(checksum >> 8)
            header[11] = UInt8(checksum & 0xFF)
        default:
            header.reserveCapacity(40)
            appendBigEndian(UInt32(0x6000_0000), to: &header)
            appendBigEndian(UInt16(payloadLength), to: &header)
            header.append(`protocol`)
            header.append(64)
            header += bytes(of: source)
            header += bytes(of: destination)
        }
        return header
    }

    /// A packet's two ends in one family: an IPv4 end beside an IPv6 one is written IPv4-mapped,
    /// as a dual-stack socket sees it (CaptureEndpoints pairs ends of one family where it can).
    static func oneFamily(_ a: IPEndpoint, _ b: IPEndpoint) -> (IPEndpoint, IPEndpoint) {
        func mapped(_ e: IPEndpoint) -> IPEndpoint {
            guard case .v4(let v4) = e.address else { return e }
            return IPEndpoint(.v6(IPv6Address(high: 0, low: 0xFFFF_0000_0000 | UInt64(v4.value))), port: e.port)
        }
        return a.family == b.family ? (a, b) : (mapped(a), mapped(b))
    }

    /// The address's 4 or 16 bytes in network order.
    static func bytes(of address: IPAddress) -> [UInt8] {
        var out: [UInt8] = []
        switch address {
        case .v4(let a): appendBigEndian(a.value, to: &out)
        case .v6(let a):
            appendBigEndian(a.high, to: &out)
            appendBigEndian(a.low, to: &out)
        }
        return out
    }

    private static func pseudoHeaderSum(
        _ source: IPAddress,
        _ destination: IPAddress,
        protocol: UInt8,
        length: Int
    )
        -> UInt32
    {
        var pseudo = bytes(of: source) + bytes(of: destination)
        if source.family == .ipv4 {
            pseudo += [0, `protocol`]
            appendBigEndian(UInt16(length), to: &pseudo)
        } else {
            appendBigEndian(UInt32(length), to: &pseudo)
            pseudo += [0, 0, 0, `protocol`]
        }
        return onesComplementSum(pseudo, initial: 0)
    }

    static func onesComplementSum(_ bytes: [UInt8], initial: UInt32) -> UInt32 {
        var sum = initial
        var i = 0
        while i + 1 < bytes.count {
            sum &+= UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1])
            sum = (sum & 0xFFFF) &+ (sum >> 16)
            i += 2
        }
        if i < bytes.count { sum &+= UInt32(bytes[i]) << 8 }
        return sum
    }

    static func fold(_ sum: UInt32) -> UInt16 {
        var s = sum
        while s >> 16 != 0 { s = (s & 0xFFFF) + (s >> 16) }
        return UInt16(s)
    }

    static func appendBigEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }
}
