/// Frames associations' packets into one pcapng section: the section header first, then two
/// interfaces per association (its wire view and its inner view) declared the first time the
/// association has a packet, then the packets. Sans-I/O: the caller writes the bytes.
package struct PcapNGWriter: Sendable {
    /// What every SocksDeck capture says about itself (its section comment).
    package static let fileComment =
        "Written by SocksDeck from what it saw at its sockets: each association has two interfaces, its wire "
        + "view (the control connection as TCP, datagrams to and from the relay with their SOCKS5 UDP "
        + "header) and its inner view (the payloads between the data socket and the real remote, as if "
        + "there were no proxy). TCP handshakes, sequence numbers and the data socket's source address are "
        + "synthesised. RFC 1929 passwords are replaced by '*' of the same length."

    private var interfaces: [String: (wire: UInt32, inner: UInt32)] = [:]
    private var nextInterface: UInt32 = 0
    package private(set) var headerWritten = false

    package init() {}

    /// The bytes for `packets` of association `key` (which names its interfaces, `socksdeck-KEY-wire`;
    /// labelled `label` in their descriptions), preceded
    /// by the section header the first time and by the association's interfaces the first time
    /// it is seen.
    /// `decodeAs` names the server's TCP port when Wireshark would not take it for SOCKS by itself
    /// (it does for 1080 only): the interface description says how to tell it.
    package mutating func encode(
        _ packets: [CapturedPacket],
        of key: String,
        label: String,
        serverPort: UInt16? = nil
    )
        -> [UInt8]
    {
        var out: [UInt8] = []
        if !headerWritten {
            headerWritten = true
            out += PcapNGBlock.sectionHeader(comment: Self.fileComment, application: "SocksDeck")
        }
        let ids: (wire: UInt32, inner: UInt32)
        if let known = interfaces[key] {
            ids = known
        } else {
            ids = (nextInterface, nextInterface + 1)
            nextInterface += 2
            interfaces[key] = ids
            out += PcapNGBlock.interfaceDescription(
                name: "socksdeck-\(key)-wire",
                description: "\(label): wire view, the control connection and datagrams to and from the relay; "
                    + "the data socket's source address is inferred from the control connection"
                    + (serverPort.map { $0 == 1080 ? "" : "; decode with -d tcp.port==\($0),socks" } ?? "")
            )
            out += PcapNGBlock.interfaceDescription(
                name: "socksdeck-\(key)-inner",
                description: "\(label): inner view, payloads between the data socket and their real remotes"
            )
        }
        for packet in packets {
            out += PcapNGBlock.enhancedPacket(
                interface: packet.view == .wire ? ids.wire : ids.inner,
                time: packet.time,
                packet: packet.packet,
                comment: packet.comment
            )
        }
        return out
    }
}
