/// A username and a password for RFC 1929. The password is never printed: `description` and
/// `debugDescription` mask it, so it cannot leak through string interpolation or a dump.
public struct Credentials: Hashable, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public let username: [UInt8]
    public let password: [UInt8]

    /// nil when either is empty or longer than 255 bytes (RFC 1929's limits).
    public init?(username: String, password: String) {
        let u = Array(username.utf8)
        let p = Array(password.utf8)
        guard (1...255).contains(u.count), (1...255).contains(p.count) else { return nil }
        self.username = u
        self.password = p
    }

    public var description: String { "\(String(decoding: username, as: UTF8.self)):••••" }
    public var debugDescription: String { description }
}

/// The RFC 1929 sub-negotiation request: `01 ULEN UNAME PLEN PASSWD`.
public struct UsernamePasswordRequest: Hashable, Sendable, WireEncodable {
    public var credentials: Credentials

    public init(credentials: Credentials) { self.credentials = credentials }

    public var encodedLength: Int { 3 + credentials.username.count + credentials.password.count }

    public func write(into buffer: UnsafeMutableRawBufferPointer) {
        var w = ByteWriter(buffer)
        w.write(usernamePasswordVersion)
        w.write(UInt8(credentials.username.count))
        w.write(credentials.username)
        w.write(UInt8(credentials.password.count))
        w.write(credentials.password)
    }
}
