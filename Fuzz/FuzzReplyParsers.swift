// libFuzzer target: the parsers that read what a server sends (method selection, RFC 1929
// reply, request reply) and the handshake state machine fed with arbitrary bytes.
// Compiled in one module with Sources/Socks5 (see scripts/fuzz.sh), so no import.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    _ = try? MethodSelection.parse(bytes)
    _ = try? UsernamePasswordReply.parse(bytes)
    if case .complete(let reply, let used)? = try? SOCKSReply.parse(bytes) {
        precondition(used <= size && used == reply.encodedLength, "consumed more than given")
        // Round trip, but for RSV (byte 2), which the parser deliberately does not keep.
        var original = Array(bytes[0..<used])
        original[2] = 0
        precondition(reply.encoded() == original, "reply does not round-trip")
    }
    var machine = ClientHandshake(
        command: .udpAssociate,
        address: .unspecified(.ipv4),
        credentials: Credentials(username: "u", password: "p")
    )
    _ = machine.start()
    // Feed in two pieces, as a network would.
    let cut = size / 2
    _ = machine.receive(Array(bytes[0..<cut]))
    _ = machine.receive(Array(bytes[cut...]))
    _ = machine.receiveEndOfStream()
    return 0
}
