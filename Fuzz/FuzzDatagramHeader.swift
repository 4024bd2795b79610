// libFuzzer target: the UDP header decoder, with what it promises checked: a header it accepts
// lies inside the datagram and encodes back to the same bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    guard let (header, offset) = try? UDPDatagramHeader.parse(bytes) else { return 0 }
    precondition(offset <= size && offset == header.encodedLength, "payload offset outside the datagram")
    var encoded = [UInt8](repeating: 0, count: UDPDatagramHeader.maximumLength)
    let n = encoded.withUnsafeMutableBytes { header.write(into: $0) }
    var original = Array(bytes[0..<offset])
    original[0] = 0  // RSV is not kept
    original[1] = 0
    precondition(Array(encoded[0..<n]) == original, "header does not round-trip")
    return 0
}
