// libFuzzer target: the frames `send --replay` reads from a capture, and the captures SocksDeck
// writes. The first byte picks a link type, the rest is the frame. What they promise: a datagram
// or a reason, never a crash; a datagram's payload is inside the frame; and a datagram SocksDeck
// synthesises from it (IPPacket, in an Ethernet frame) decodes back to the same datagram; the
// password redaction never changes a stream's length.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size >= 1 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let linkTypes: [Int32] = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147]
    let linkType = linkTypes[Int(bytes[0]) % linkTypes.count]
    let frame = Array(bytes.dropFirst())
    if case .success(let d) = UDPFrameDecoder.decode(linkType: linkType, frame: frame) {
        precondition(d.payload.count <= frame.count, "a payload larger than its frame")
        let again = PcapNGBlock.ethernetFrame(IPPacket.udp(from: d.source, to: d.destination, payload: d.payload))
        let back = UDPFrameDecoder.decode(linkType: 1, frame: again)
        if d.payload.count <= 65_000 {
            precondition(back == .success(d), "a synthesised datagram does not decode back to itself")
        }
    }
    var redaction = PasswordRedaction()
    precondition(redaction.redact(frame).count == frame.count, "redaction changed the length")
    return 0
}
