/// The version byte of every SOCKS5 message.
public let socksVersion: UInt8 = 0x05

/// The version byte of the RFC 1929 username/password sub-negotiation.
public let usernamePasswordVersion: UInt8 = 0x01

/// An authentication method (RFC 1928 section 3).
public struct AuthenticationMethod: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let noAuthentication = AuthenticationMethod(rawValue: 0x00)
    public static let gssapi = AuthenticationMethod(rawValue: 0x01)
    public static let usernamePassword = AuthenticationMethod(rawValue: 0x02)
    public static let noAcceptableMethods = AuthenticationMethod(rawValue: 0xFF)

    public var description: String {
        switch self {
        case .noAuthentication: "no authentication (00)"
        case .gssapi: "GSSAPI (01)"
        case .usernamePassword: "username/password (02)"
        case .noAcceptableMethods: "no acceptable methods (FF)"
        default: "method \(hexByte(rawValue))"
        }
    }
}

/// The CMD byte of a request.
public enum Command: UInt8, Sendable, CustomStringConvertible {
    case connect = 0x01
    case bind = 0x02
    case udpAssociate = 0x03

    public var description: String {
        switch self {
        case .connect: "CONNECT"
        case .bind: "BIND"
        case .udpAssociate: "UDP ASSOCIATE"
        }
    }
}

/// The ATYP byte.
public enum AddressType: UInt8, Sendable {
    case ipv4 = 0x01
    case domainName = 0x03
    case ipv6 = 0x04
}

/// The REP byte of a reply. Unassigned values (09..FF) are kept as they came.
public struct ReplyCode: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let succeeded = ReplyCode(rawValue: 0)
    public static let generalFailure = ReplyCode(rawValue: 1)
    public static let notAllowedByRuleset = ReplyCode(rawValue: 2)
    public static let networkUnreachable = ReplyCode(rawValue: 3)
    public static let hostUnreachable = ReplyCode(rawValue: 4)
    public static let connectionRefused = ReplyCode(rawValue: 5)
    public static let ttlExpired = ReplyCode(rawValue: 6)
    public static let commandNotSupported = ReplyCode(rawValue: 7)
    public static let addressTypeNotSupported = ReplyCode(rawValue: 8)

    /// RFC 1928 assigns 00 to 08.
    public var isAssigned: Bool { rawValue <= 8 }
}

/// One byte as two upper-case hex digits, the way RFC 1928 and the error names write codes
/// ("REP 07", "method FF").
public func hexByte(_ b: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return String([digits[Int(b >> 4)], digits[Int(b & 0xF)]])
}

/// Bytes as lower-case hex pairs, space-separated, the way tcpdump and Wireshark show a dump:
/// the one formatter every front end's hex views use ("05 07 00 01").
public func hexDump(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef")
    var out = ""
    for b in bytes {
        if !out.isEmpty { out.append(" ") }
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 0xF)])
    }
    return out
}
