/// The three pcapng blocks a SocksDeck capture needs (draft-ietf-opsawg-pcapng): the section
/// header, an interface description per view, and enhanced packets. Written by hand because
/// libpcap writes only classic pcap (one link type per file, no comments, microseconds) and
/// nothing else on Debian writes pcapng from a library: these are three length-prefixed records.
///
/// Blocks are in the host's byte order, as the format allows (the byte-order magic tells the
/// reader); every block and option is padded to 32 bits.
package enum PcapNGBlock {
    /// LINKTYPE_ETHERNET, with a zero-address Ethernet header before each IP packet: every reader
    /// takes it. (LINKTYPE_RAW would need no header, but libpcap 1.10 refuses a pcapng file with
    /// two LINKTYPE_RAW interfaces: it compares the second's link type with the first's mapped
    /// DLT_RAW, measured here, and replay reads files through libpcap.)
    package static let linkTypeEthernet: UInt16 = 1
    /// What an interface may capture of a packet: every UDP datagram whole.
    package static let snapLength: UInt32 = 262_144

    static let sectionHeaderType: UInt32 = 0x0A0D_0D0A
    static let interfaceDescriptionType: UInt32 = 0x0000_0001
    static let enhancedPacketType: UInt32 = 0x0000_0006
    static let byteOrderMagic: UInt32 = 0x1A2B_3C4D

    /// The section header: where a reader starts, with the file's comment (what it holds, and
    /// that passwords were masked) and the application that wrote it.
    package static func sectionHeader(comment: String?, application: String) -> [UInt8] {
        var body = BlockBody()
        body.append32(byteOrderMagic)
        body.append16(1)  // major version
        body.append16(0)  // minor version
        body.append64(UInt64.max)  // section length: not given (-1), the file is written as it goes
        var options = Options()
        if let comment { options.add(code: 1, string: comment) }  // shb_comment
        options.add(code: 4, string: application)  // shb_userappl
        body.append(options.finished())
        return body.block(type: sectionHeaderType)
    }

    /// An interface: here a view of one association (its wire traffic, or its payloads as if
    /// there were no proxy). Timestamps are in nanoseconds (if_tsresol 9).
    package static func interfaceDescription(name: String, description: String) -> [UInt8] {
        var body = BlockBody()
        body.append16(linkTypeEthernet)
        body.append16(0)  // reserved
        body.append32(snapLength)
        var options = Options()
        options.add(code: 2, string: name)  // if_name
        options.add(code: 3, string: description)  // if_description
        options.add(code: 9, bytes: [9])  // if_tsresol: 10^-9 s
        body.append(options.finished())
        return body.block(type: interfaceDescriptionType)
    }

    /// One packet on interface `interface` (its index in the section), stamped `time`
    /// nanoseconds after the Unix epoch, with an optional comment (Wireshark's pkt_comment).
    package static func enhancedPacket(interface: UInt32, time: UInt64, packet ip: [UInt8], comment: String?) -> [UInt8]
    {
        let packet = ethernetFrame(ip)
        let captured = min(packet.count, Int(snapLength))
        var body = BlockBody()
        body.append32(interface)
        body.append32(UInt32(truncatingIfNeeded: time >> 32))
        body.append32(UInt32(truncatingIfNeeded: time))
        body.append32(UInt32(captured))
        body.append32(UInt32(packet.count))
        body.append(packet[..<captured])
        body.pad()
        if let comment {
            var options = Options()
            options.add(code: 1, string: comment)  // opt_comment
            body.append(options.finished())
        }
        return body.block(type: enhancedPacketType)
    }
}

extension PcapNGBlock {
    /// An IP packet in an Ethernet frame with zero addresses; the EtherType follows the version.
    static func ethernetFrame(_ ip: [UInt8]) -> [UInt8] {
        let etherType: [UInt8] = (ip.first.map { $0 >> 4 } == 6) ? [0x86, 0xDD] : [0x08, 0x00]
        return [UInt8](repeating: 0, count: 12) + etherType + ip
    }
}

/// A block's body, framed by `block(type:)` with the type and the total length at both ends.
struct BlockBody {
    private(set) var bytes: [UInt8] = []

    mutating func append16(_ value: UInt16) { withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) } }
    mutating func append32(_ value: UInt32) { withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) } }
    mutating func append64(_ value: UInt64) { withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) } }
    mutating func append<C: Collection<UInt8>>(_ more: C) { bytes.append(contentsOf: more) }
    mutating func pad() { bytes.append(contentsOf: repeatElement(0, count: (4 - bytes.count % 4) % 4)) }

    func block(type: UInt32) -> [UInt8] {
        let total = UInt32(12 + bytes.count)
        var out = BlockBody()
        out.append32(type)
        out.append32(total)
        out.append(bytes)
        out.append32(total)
        return out.bytes
    }
}

/// A block's options: code, length, value padded to 32 bits, and opt_endofopt.
struct Options {
    private var body = BlockBody()

    mutating func add(code: UInt16, string: String) { add(code: code, bytes: Array(string.utf8.prefix(65_000))) }

    mutating func add(code: UInt16, bytes: [UInt8]) {
        body.append16(code)
        body.append16(UInt16(bytes.count))
        body.append(bytes)
        body.pad()
    }

    func finished() -> [UInt8] {
        var done = body
        done.append32(0)  // opt_endofopt: code 0, length 0
        return done.bytes
    }
}
