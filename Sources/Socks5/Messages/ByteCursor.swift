// Wire bytes are read and written through these two cursors over raw memory, so that the same
// encoders serve the control messages ([UInt8]) and the UDP header (a stack buffer, no heap).

/// Reads big-endian fields from raw bytes. Callers check `remaining` before reading.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    func peekUInt8(at distance: Int = 0) -> UInt8? {
        offset + distance < bytes.count ? bytes[offset + distance] : nil
    }

    mutating func skip(_ n: Int) { offset += n }

    mutating func readUInt8() -> UInt8 {
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readUInt16() -> UInt16 {
        UInt16(readUInt8()) << 8 | UInt16(readUInt8())
    }

    mutating func readUInt32() -> UInt32 {
        UInt32(readUInt16()) << 16 | UInt32(readUInt16())
    }

    mutating func readUInt64() -> UInt64 {
        UInt64(readUInt32()) << 32 | UInt64(readUInt32())
    }

    mutating func readBytes(_ n: Int) -> [UInt8] {
        defer { offset += n }
        return Array(bytes[offset..<offset + n])
    }
}

/// Writes big-endian fields into raw memory that the caller sized with the message's
/// `encodedLength`.
struct ByteWriter {
    let bytes: UnsafeMutableRawBufferPointer
    private(set) var offset = 0

    init(_ bytes: UnsafeMutableRawBufferPointer) { self.bytes = bytes }

    mutating func write(_ value: UInt8) {
        bytes[offset] = value
        offset += 1
    }

    mutating func write(_ value: UInt16) {
        write(UInt8(truncatingIfNeeded: value >> 8))
        write(UInt8(truncatingIfNeeded: value))
    }

    mutating func write(_ value: UInt32) {
        write(UInt16(truncatingIfNeeded: value >> 16))
        write(UInt16(truncatingIfNeeded: value))
    }

    mutating func write(_ value: UInt64) {
        write(UInt32(truncatingIfNeeded: value >> 32))
        write(UInt32(truncatingIfNeeded: value))
    }

    mutating func write(_ values: [UInt8]) {
        for v in values { write(v) }
    }
}

/// A message that has a fixed encoding: the control-plane messages.
public protocol WireEncodable {
    var encodedLength: Int { get }
    /// Writes exactly `encodedLength` bytes.
    func write(into buffer: UnsafeMutableRawBufferPointer)
}

extension WireEncodable {
    /// The message's bytes.
    public func encoded() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: encodedLength) { buffer, count in
            write(into: UnsafeMutableRawBufferPointer(buffer))
            count = encodedLength
        }
    }
}

/// The result of parsing a message from the front of the bytes received so far.
public enum ParseResult<Message> {
    /// The message, and how many bytes it took.
    case complete(Message, consumed: Int)
    /// The message is not whole yet: at least `totalLength` bytes are needed, counted from the
    /// start of the message. Reading exactly the difference never reads past the message.
    case incomplete(totalLength: Int)
}

extension ParseResult: Equatable where Message: Equatable {}
extension ParseResult: Sendable where Message: Sendable {}

/// A server's bytes that break RFC 1928 or RFC 1929.
public enum ProtocolViolation: Error, Hashable, Sendable {
    case wrongVersion(expected: UInt8, got: UInt8)
    case unknownAddressType(UInt8)
    case emptyDomainName
    case domainNameWithNUL
    /// A greeting with NMETHODS 0.
    case noMethods
    /// An RFC 1929 request with an empty username or password.
    case emptyCredentials
    /// A request whose CMD is not CONNECT, BIND or UDP ASSOCIATE.
    case unknownCommand(UInt8)
}
