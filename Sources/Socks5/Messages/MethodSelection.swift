/// The server's answer to the greeting: `05 METHOD`.
public struct MethodSelection: Hashable, Sendable, WireEncodable {
    public var method: AuthenticationMethod

    public init(method: AuthenticationMethod) { self.method = method }

    public var encodedLength: Int { 2 }

    public func write(into buffer: UnsafeMutableRawBufferPointer) {
        var w = ByteWriter(buffer)
        w.write(socksVersion)
        w.write(method.rawValue)
    }

    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(ProtocolViolation) -> ParseResult<MethodSelection>
    {
        var r = ByteReader(bytes)
        guard r.remaining >= 2 else { return .incomplete(totalLength: 2) }
        let version = r.readUInt8()
        guard version == socksVersion else { throw .wrongVersion(expected: socksVersion, got: version) }
        return .complete(MethodSelection(method: AuthenticationMethod(rawValue: r.readUInt8())), consumed: 2)
    }
}
