import Testing

@testable import PcapNG

/// The blocks' layout, byte for byte where the format fixes it.
@Suite struct PcapNGBlocksTests {
    func u32(_ b: [UInt8], _ at: Int) -> UInt32 { b[at..<at + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) } }

    @Test func everyBlockIsFramedByItsLengthAndPaddedTo32Bits() {
        let blocks = [
            PcapNGBlock.sectionHeader(comment: "a comment", application: "SocksDeck"),
            PcapNGBlock.interfaceDescription(name: "n", description: "odd length"),
            PcapNGBlock.enhancedPacket(interface: 3, time: 1, packet: [1, 2, 3], comment: "c"),
            PcapNGBlock.enhancedPacket(interface: 0, time: 1, packet: [], comment: nil),
        ]
        for b in blocks {
            #expect(b.count % 4 == 0)
            #expect(Int(u32(b, 4)) == b.count)
            #expect(u32(b, b.count - 4) == u32(b, 4))
        }
        #expect(u32(blocks[0], 0) == 0x0A0D_0D0A)
        #expect(u32(blocks[0], 8) == 0x1A2B_3C4D)
        #expect(u32(blocks[1], 0) == 1)
        #expect(u32(blocks[2], 0) == 6)
    }

    @Test func anEnhancedPacketCarriesItsInterfaceTheNanosecondsAndAnEthernetFrame() {
        let time: UInt64 = 0x1234_5678_9ABC_DEF0
        let ip: [UInt8] = [0x60] + [UInt8](repeating: 0, count: 39)
        let b = PcapNGBlock.enhancedPacket(interface: 7, time: time, packet: ip, comment: nil)
        #expect(u32(b, 8) == 7)
        #expect(u32(b, 12) == 0x1234_5678 && u32(b, 16) == 0x9ABC_DEF0)
        #expect(u32(b, 20) == 54 && u32(b, 24) == 54)
        // Zero MAC addresses, then the EtherType of the IP version: IPv6 here.
        #expect(Array(b[28..<40]) == [UInt8](repeating: 0, count: 12))
        #expect(Array(b[40..<42]) == [0x86, 0xDD])
        #expect(Array(PcapNGBlock.ethernetFrame([0x45])[12..<14]) == [0x08, 0x00])
    }

    @Test func theWriterDeclaresEachAssociationsTwoInterfacesOnce() {
        var writer = PcapNGWriter()
        let p = CapturedPacket(view: .inner, time: 1, packet: [0x45])
        let first = writer.encode([p], of: "1", label: "#1", serverPort: 1080)
        let again = writer.encode([p], of: "1", label: "#1")
        let second = writer.encode([p], of: "2", label: "#2", serverPort: 1081)
        func types(_ b: [UInt8]) -> [UInt32] {
            var out: [UInt32] = []
            var i = 0
            while i < b.count {
                out.append(u32(b, i))
                i += Int(u32(b, i + 4))
            }
            return out
        }
        #expect(types(first) == [0x0A0D_0D0A, 1, 1, 6])
        #expect(types(again) == [6])
        #expect(types(second) == [1, 1, 6])
        // Association 2's inner view is interface 3: the packet block's first field.
        let packetStart = second.count - Int(u32(second, second.count - 4))
        #expect(u32(second, packetStart + 8) == 3)
        let text = String(decoding: second, as: UTF8.self)
        #expect(text.contains("-d tcp.port==1081,socks"))
        #expect(!String(decoding: first, as: UTF8.self).contains("-d tcp.port=="))
    }
}
