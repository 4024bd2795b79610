import Socks5
import Testing

@testable import PcapNG

/// The synthesised packets verify as real ones do: a checksum over a header (IPv4) or over the
/// pseudo-header and segment (UDP, TCP) that includes its checksum folds to 0xFFFF.
@Suite struct IPPacketTests {
    static let v4a = IPEndpoint(IPAddress("192.0.2.1")!, port: 40_000)
    static let v4b = IPEndpoint(IPAddress("198.51.100.7")!, port: 53)
    static let v6a = IPEndpoint(IPAddress("2001:db8::1")!, port: 40_000)
    static let v6b = IPEndpoint(IPAddress("2001:db8::53")!, port: 53)

    func verifies(
        _ packet: [UInt8],
        headerLength: Int,
        source: IPEndpoint,
        destination: IPEndpoint,
        proto: UInt8
    )
        -> Bool
    {
        let segment = Array(packet[headerLength...])
        var pseudo = IPPacket.bytes(of: source.address) + IPPacket.bytes(of: destination.address)
        if source.family == .ipv4 {
            pseudo += [0, proto, UInt8(segment.count >> 8), UInt8(segment.count & 0xFF)]
        } else {
            pseudo += [0, 0, UInt8(segment.count >> 8), UInt8(segment.count & 0xFF), 0, 0, 0, proto]
        }
        let sum = IPPacket.onesComplementSum(segment, initial: IPPacket.onesComplementSum(pseudo, initial: 0))
        return IPPacket.fold(sum) == 0xFFFF
    }

    @Test(arguments: [0, 1, 2, 3, 1472])
    func udpOverIPv4VerifiesItsBothChecksums(size: Int) {
        let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let p = IPPacket.udp(from: Self.v4a, to: Self.v4b, payload: payload)
        #expect(p.count == 28 + size)
        #expect(IPPacket.fold(IPPacket.onesComplementSum(Array(p[0..<20]), initial: 0)) == 0xFFFF)
        #expect(verifies(p, headerLength: 20, source: Self.v4a, destination: Self.v4b, proto: 17))
        #expect(Array(p[28...]) == payload)
        #expect(Int(p[24]) << 8 | Int(p[25]) == 8 + size)
    }

    @Test func udpOverIPv6AndTCPVerify() {
        let p = IPPacket.udp(from: Self.v6a, to: Self.v6b, payload: [1, 2, 3])
        #expect(p[0] >> 4 == 6 && p[6] == 17 && p.count == 51)
        #expect(verifies(p, headerLength: 40, source: Self.v6a, destination: Self.v6b, proto: 17))
        let t = IPPacket.tcp(
            from: Self.v4a,
            to: Self.v4b,
            sequence: 9,
            acknowledgment: 4,
            flags: [.psh, .ack],
            payload: [5]
        )
        #expect(t[9] == 6 && t[33] == 0x18)
        #expect(verifies(t, headerLength: 20, source: Self.v4a, destination: Self.v4b, proto: 6))
        let t6 = IPPacket.tcp(from: Self.v6a, to: Self.v6b, sequence: 1, acknowledgment: 0, flags: [.syn], payload: [])
        #expect(verifies(t6, headerLength: 40, source: Self.v6a, destination: Self.v6b, proto: 6))
    }

    /// An IPv4 end beside an IPv6 one is written IPv4-mapped: one packet, one family.
    @Test func mixedFamiliesBecomeIPv4MappedIPv6() {
        let p = IPPacket.udp(from: Self.v4a, to: Self.v6b, payload: [])
        #expect(p[0] >> 4 == 6)
        #expect(Array(p[8..<24]) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 192, 0, 2, 1])
    }

    /// The frame decoder reads back what the synthesiser wrote, for both families.
    @Test func theFrameDecoderReadsBackASynthesisedDatagram() throws {
        for (a, b) in [(Self.v4a, Self.v4b), (Self.v6a, Self.v6b)] {
            let frame = PcapNGBlock.ethernetFrame(IPPacket.udp(from: a, to: b, payload: [9, 8, 7]))
            let d = try UDPFrameDecoder.decode(linkType: UDPFrameDecoder.LinkType.ethernet, frame: frame).get()
            #expect(d == CapturedDatagram(source: a, destination: b, payload: [9, 8, 7]))
        }
    }
}
