/// The RFC 1929 answer: `01 STATUS`, where 00 is success and anything else failure.
public struct UsernamePasswordReply: Hashable, Sendable, WireEncodable {
    public var status: UInt8

    public init(status: UInt8) { self.status = status }

    public var succeeded: Bool { status == 0 }

    public var encodedLength: Int { 2 }

    public func write(into buffer: UnsafeMutableRawBufferPointer) {
        var w = ByteWriter(buffer)
        w.write(usernamePasswordVersion)
        w.write(status)
    }

    public static func parse(
        _ bytes: UnsafeRawBufferPointer
    ) throws(ProtocolViolation) -> ParseResult<UsernamePasswordReply> {
        var r = ByteReader(bytes)
        guard r.remaining >= 2 else { return .incomplete(totalLength: 2) }
        let version = r.readUInt8()
        guard version == usernamePasswordVersion else {
            throw .wrongVersion(expected: usernamePasswordVersion, got: version)
        }
        return .complete(UsernamePasswordReply(status: r.readUInt8()), consumed: 2)
    }
}
