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
}
