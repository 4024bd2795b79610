/// A request: `05 CMD 00 ATYP DST.ADDR DST.PORT`.
public struct SOCKSRequest: Hashable, Sendable, WireEncodable {
    public var command: Command
    /// For CONNECT and BIND, the target. For UDP ASSOCIATE, the address the client will send its
    /// datagrams from, or all zeros when it does not know it (RFC 1928 section 4).
    public var address: SOCKSAddress

    public init(command: Command, address: SOCKSAddress) {
        self.command = command
        self.address = address
    }

    public var encodedLength: Int { 3 + address.encodedLength }

    public func write(into buffer: UnsafeMutableRawBufferPointer) {
        var w = ByteWriter(buffer)
        w.write(socksVersion)
        w.write(command.rawValue)
        w.write(UInt8(0))
        address.write(to: &w)
    }

    /// Parses a request (the server side). An unknown CMD is reported as `.unknownCommand`, so
    /// that a server can answer it with REP 7 rather than drop the connection.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(ProtocolViolation) -> ParseResult<SOCKSRequest> {
        var r = ByteReader(bytes)
        guard let version = r.peekUInt8() else { return .incomplete(totalLength: 4) }
        guard version == socksVersion else { throw .wrongVersion(expected: socksVersion, got: version) }
        guard r.remaining >= 4 else { return .incomplete(totalLength: 4) }
        r.skip(1)
        let commandByte = r.readUInt8()
        r.skip(1)
        var needed = 0
        guard let address = try SOCKSAddress.read(from: &r, needed: &needed) else {
            return .incomplete(totalLength: needed)
        }
        guard let command = Command(rawValue: commandByte) else { throw .unknownCommand(commandByte) }
        return .complete(SOCKSRequest(command: command, address: address), consumed: r.offset)
    }
}
