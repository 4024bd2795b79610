/// A username and a password for RFC 1929. The password is never printed: `description`,
/// `debugDescription` and the mirror mask it, so it cannot leak through interpolation or `dump()`.
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

    public init?(usernameBytes: [UInt8], passwordBytes: [UInt8]) {
        guard (1...255).contains(usernameBytes.count), (1...255).contains(passwordBytes.count) else { return nil }
        username = usernameBytes
        password = passwordBytes
    }

    public var description: String { "\(String(decoding: username, as: UTF8.self)):••••" }
    public var debugDescription: String { description }
}

extension Credentials: CustomReflectable {
    /// `dump()` and debuggers walk the mirror, not `description`: it must not hold the password.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: ["username": String(decoding: username, as: UTF8.self), "password": "••••"],
            displayStyle: .struct
        )
    }
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

    /// Parses the sub-negotiation request (the server side). Empty fields are a violation.
    public static func parse(
        _ bytes: UnsafeRawBufferPointer
    ) throws(ProtocolViolation) -> ParseResult<UsernamePasswordRequest> {
        var r = ByteReader(bytes)
        guard let version = r.peekUInt8() else { return .incomplete(totalLength: 2) }
        guard version == usernamePasswordVersion else {
            throw .wrongVersion(expected: usernamePasswordVersion, got: version)
        }
        guard r.remaining >= 2 else { return .incomplete(totalLength: 2) }
        let userLength = Int(r.peekUInt8(at: 1)!)
        guard r.remaining >= 3 + userLength else { return .incomplete(totalLength: 3 + userLength) }
        let passwordLength = Int(r.peekUInt8(at: 2 + userLength)!)
        let total = 3 + userLength + passwordLength
        guard r.remaining >= total else { return .incomplete(totalLength: total) }
        r.skip(2)
        let user = r.readBytes(userLength)
        r.skip(1)
        let password = r.readBytes(passwordLength)
        guard let credentials = Credentials(usernameBytes: user, passwordBytes: password) else {
            throw .emptyCredentials
        }
        return .complete(UsernamePasswordRequest(credentials: credentials), consumed: total)
    }
}
