import Socks5
import Testing

@testable import PcapNG

/// Every link type a capture of UDP is likely to come in, and every way a frame is not one datagram.
@Suite struct UDPFrameDecoderTests {
    static let a = IPEndpoint(IPAddress("10.0.0.1")!, port: 5000)
    static let b = IPEndpoint(IPAddress("10.0.0.2")!, port: 53)
    static let ip = IPPacket.udp(from: a, to: b, payload: Array("query".utf8))
    static let ip6 = IPPacket.udp(
        from: IPEndpoint(IPAddress("fe80::1")!, port: 1),
        to: IPEndpoint(IPAddress("fe80::2")!, port: 2),
        payload: [1]
    )
    typealias L = UDPFrameDecoder.LinkType

    func payload(_ linkType: Int32, _ frame: [UInt8]) -> [UInt8]? {
        try? UDPFrameDecoder.decode(linkType: linkType, frame: frame).get().payload
    }

    @Test func everyLinkTypeItReads() {
        let ethernet = [UInt8](repeating: 0, count: 12) + [0x08, 0x00] + Self.ip
        let vlan = [UInt8](repeating: 0, count: 12) + [0x81, 0x00, 0x00, 0x05, 0x88, 0xA8, 0, 1, 0x08, 0x00] + Self.ip
        let cooked = [UInt8](repeating: 0, count: 14) + [0x08, 0x00] + Self.ip
        let cooked2 = [0x08, 0x00] + [UInt8](repeating: 0, count: 18) + Self.ip
        let null = [2, 0, 0, 0] + Self.ip
        let query = Array("query".utf8)
        #expect(payload(L.ethernet, ethernet) == query)
        #expect(payload(L.ethernet, vlan) == query)
        #expect(payload(L.linuxCooked, cooked) == query)
        #expect(payload(L.linuxCooked2, cooked2) == query)
        #expect(payload(L.null, null) == query)
        #expect(payload(L.loop, null) == query)
        for raw in L.raw.union([L.ipv4]) { #expect(payload(raw, Self.ip) == query) }
        #expect(payload(L.ipv6, Self.ip6) == [1])
        let d = try? UDPFrameDecoder.decode(linkType: L.ethernet, frame: ethernet).get()
        #expect(d?.source == Self.a && d?.destination == Self.b)
    }

    @Test func whatIsNotOneWholeDatagramSaysWhy() {
        func skip(_ linkType: Int32, _ frame: [UInt8]) -> UDPFrameDecoder.Skip? {
            if case .failure(let s) = UDPFrameDecoder.decode(linkType: linkType, frame: frame) { return s }
            return nil
        }
        #expect(skip(147, Self.ip) == .unsupportedLinkType)
        #expect(skip(L.ethernet, [UInt8](repeating: 0, count: 12) + [0x08, 0x06] + Self.ip) == .notIP)
        var tcp = Self.ip
        tcp[9] = 6
        #expect(skip(L.ipv4, tcp) == .notUDP)
        var fragment = Self.ip
        fragment[6] = 0x20  // more fragments
        #expect(skip(L.ipv4, fragment) == .fragment)
        #expect(skip(L.ipv4, Array(Self.ip.dropLast(2))) == .truncated)
        #expect(skip(L.ipv4, []) == .truncated)
        // An IPv6 fragment header (44) before UDP.
        var v6 = Self.ip6
        v6[6] = 44
        #expect(skip(L.ipv6, v6) == .fragment)
        // A hop-by-hop header (0) of 8 bytes before UDP is stepped over.
        var hop = Array(Self.ip6[0..<40])
        hop[6] = 0
        hop[5] += 8
        hop += [17, 0, 0, 0, 0, 0, 0, 0] + Array(Self.ip6[40...])
        #expect(payload(L.ipv6, hop) == [1])
    }

    /// Any bytes at all: a result, never a trap (the fuzzer runs this much longer).
    @Test func arbitraryBytesNeverTrap() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let frame = (0..<Int.random(in: 0..<90, using: &generator)).map { _ in UInt8.random(in: 0...255) }
            for linkType in [L.ethernet, L.linuxCooked, L.linuxCooked2, L.null, 101, L.ipv6] {
                _ = UDPFrameDecoder.decode(linkType: linkType, frame: frame)
                _ = UDPFrameDecoder.decode(linkType: linkType, frame: Array(Self.ip.prefix(frame.count)) + frame)
            }
        }
    }
}
