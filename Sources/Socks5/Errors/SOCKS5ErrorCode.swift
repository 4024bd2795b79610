#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The SOCKS-level failure codes: the values of `socks5_errno` (`S5_*` in socks5.h).
///
/// AIX names these but does not publish their values, so each code equals the RFC 1928 REP byte
/// that causes it; codes above 8 name failures that are not a reply code.
public enum SOCKS5ErrorCode: Int32, CaseIterable, Sendable, Hashable {
    case serverFailure = 1
    case notAllowed = 2
    case networkUnreachable = 3
    case hostUnreachable = 4
    case connectionRefused = 5
    case ttlExpired = 6
    case commandNotSupported = 7
    case addressTypeNotSupported = 8
    case noServer = 9
    // Extensions: failures AIX's table has no name for.
    case noAcceptableMethod = 10
    case authenticationFailed = 11
    case malformedReply = 12
    case unassignedReply = 13
    case closedDuringHandshake = 14
    case domainBoundAddress = 15
    case methodNotOffered = 16
    case boundAddressFamily = 17
    /// The client configuration file (socks5c.conf) is malformed or cannot be read.
    case configurationFile = 18

    /// The name in socks5.h.
    public var name: String {
        switch self {
        case .serverFailure: "S5_ESRVFAIL"
        case .notAllowed: "S5_EPERM"
        case .networkUnreachable: "S5_ENETUNREACH"
        case .hostUnreachable: "S5_EHOSTUNREACH"
        case .connectionRefused: "S5_ECONNREFUSED"
        case .ttlExpired: "S5_ETIMEDOUT"
        case .commandNotSupported: "S5_EOPNOTSUPP"
        case .addressTypeNotSupported: "S5_EAFNOSUPPORT"
        case .noServer: "S5_ENOSERV"
        case .noAcceptableMethod: "S5_ENOMETHOD"
        case .authenticationFailed: "S5_EAUTH"
        case .malformedReply: "S5_EBADREPLY"
        case .unassignedReply: "S5_EUNASSIGNED"
        case .closedDuringHandshake: "S5_ECLOSED"
        case .domainBoundAddress: "S5_EBNDDOMAIN"
        case .methodNotOffered: "S5_EBADMETHOD"
        case .boundAddressFamily: "S5_EBNDFAMILY"
        case .configurationFile: "S5_ECONFIG"
        }
    }

    /// The errno that goes with the code, chosen so that a C caller's perror() says something
    /// true about what happened. A reply cut short by the server closing is a truncated
    /// reply, so EPROTO: ECONNRESET stays for a real reset, which reaches the caller as an I/O
    /// error (socks5_errno 0).
    public var errnoValue: Int32 {
        switch self {
        case .serverFailure, .malformedReply, .unassignedReply, .closedDuringHandshake, .methodNotOffered: EPROTO
        case .notAllowed, .noAcceptableMethod, .authenticationFailed: EACCES
        case .networkUnreachable: ENETUNREACH
        case .hostUnreachable, .noServer: EHOSTUNREACH
        case .connectionRefused: ECONNREFUSED
        case .ttlExpired: ETIMEDOUT
        case .commandNotSupported: EOPNOTSUPP
        case .addressTypeNotSupported, .domainBoundAddress, .boundAddressFamily: EAFNOSUPPORT
        case .configurationFile: EINVAL
        }
    }

    /// The code a failure reply carries: REP 1...8 map to themselves, unassigned values to
    /// `.unassignedReply`. nil for REP 0 (success).
    public init?(reply: ReplyCode) {
        guard reply != .succeeded else { return nil }
        self = reply.isAssigned ? SOCKS5ErrorCode(rawValue: Int32(reply.rawValue))! : .unassignedReply
    }

    /// Looks a code up by its socks5.h name, with or without the "S5_" prefix, any case.
    public init?(name: String) {
        let upper = name.uppercased()
        let full = upper.hasPrefix("S5_") ? upper : "S5_" + upper
        guard let code = Self.allCases.first(where: { $0.name == full }) else { return nil }
        self = code
    }
}
