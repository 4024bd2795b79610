/// The client's first message: `05 NMETHODS METHODS...`.
public struct ClientGreeting: Hashable, Sendable, WireEncodable {
    public var methods: [AuthenticationMethod]

    /// `methods` must hold 1 to 255 methods.
    public init(methods: [AuthenticationMethod]) {
        precondition((1...255).contains(methods.count), "a greeting offers 1 to 255 methods")
        self.methods = methods
    }

    public var encodedLength: Int { 2 + methods.count }

    public func write(into buffer: UnsafeMutableRawBufferPointer) {
        var w = ByteWriter(buffer)
        w.write(socksVersion)
        w.write(UInt8(methods.count))
        for m in methods { w.write(m.rawValue) }
    }

    /// Parses a greeting (the server side of the exchange).
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(ProtocolViolation) -> ParseResult<ClientGreeting> {
        var r = ByteReader(bytes)
        guard let version = r.peekUInt8() else { return .incomplete(totalLength: 2) }
        guard version == socksVersion else { throw .wrongVersion(expected: socksVersion, got: version) }
        guard r.remaining >= 2 else { return .incomplete(totalLength: 2) }
        let count = Int(r.peekUInt8(at: 1)!)
        guard count > 0 else { throw .noMethods }
        guard r.remaining >= 2 + count else { return .incomplete(totalLength: 2 + count) }
        r.skip(2)
        let methods = r.readBytes(count).map(AuthenticationMethod.init(rawValue:))
        return .complete(ClientGreeting(methods: methods), consumed: 2 + count)
    }
}
