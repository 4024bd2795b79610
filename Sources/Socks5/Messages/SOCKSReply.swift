/// A reply: `05 REP 00 ATYP BND.ADDR BND.PORT`.
public struct SOCKSReply: Hashable, Sendable, WireEncodable {
    public var reply: ReplyCode
    /// For UDP ASSOCIATE, the rendezvous address: where the client sends its datagrams.
    public var boundAddress: SOCKSAddress

    public init(reply: ReplyCode, boundAddress: SOCKSAddress) {
        self.reply = reply
        self.boundAddress = boundAddress
    }

    public var encodedLength: Int { 3 + boundAddress.encodedLength }

    public func write(into buffer: UnsafeMutableRawBufferPointer) {
        var w = ByteWriter(buffer)
        w.write(socksVersion)
        w.write(reply.rawValue)
        w.write(UInt8(0))
        boundAddress.write(to: &w)
    }

    /// Parses a reply from the front of `bytes`. The RSV byte is not checked: servers in the wild
    /// put junk there and RFC 1928 gives it no meaning.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(ProtocolViolation) -> ParseResult<SOCKSReply> {
        var r = ByteReader(bytes)
        guard let version = r.peekUInt8() else { return .incomplete(totalLength: 4) }
        guard version == socksVersion else { throw .wrongVersion(expected: socksVersion, got: version) }
        guard r.remaining >= 4 else { return .incomplete(totalLength: 4) }
        r.skip(1)
        let reply = ReplyCode(rawValue: r.readUInt8())
        r.skip(1)
        var needed = 0
        guard let address = try SOCKSAddress.read(from: &r, needed: &needed) else {
            return .incomplete(totalLength: needed)
        }
        return .complete(SOCKSReply(reply: reply, boundAddress: address), consumed: r.offset)
    }
}
