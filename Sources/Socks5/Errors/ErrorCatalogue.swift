#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A failure in words: a short name, a sentence a person understands, and a hint where one helps.
public struct DecodedError: Sendable, Hashable {
    /// "S5_EOPNOTSUPP", "REP 07", "ECONNREFUSED".
    public var name: String
    /// The number behind the name: the S5 code, the REP byte or the errno.
    public var value: Int32
    /// "command not supported".
    public var summary: String
    /// A whole sentence.
    public var sentence: String
    public var hint: String?
}

/// The one catalogue of failures: every S5 code, every REP byte, every errno the library sets.
/// Everything that shows an error (the C API's socks5_strerror, the engine, the CLI, the TUI)
/// shows it through here, so the words are the same everywhere.
public enum ErrorCatalogue {
    /// An S5 code. Unknown codes get a sentence that says so.
    public static func decode(s5 code: Int32) -> DecodedError {
        guard let known = SOCKS5ErrorCode(rawValue: code) else {
            return DecodedError(
                name: "S5_\(code)",
                value: code,
                summary: "unknown code",
                sentence: "\(code) is not a socks5_errno code this library knows.",
                hint: nil
            )
        }
        let e = entry(known)
        return DecodedError(name: known.name, value: code, summary: e.summary, sentence: e.sentence, hint: e.hint)
    }

    /// A REP byte, with the hint for the command it answered where that matters (REP 7 to UDP
    /// ASSOCIATE means the server has no UDP relay).
    public static func decode(reply: UInt8, command: Command? = nil) -> DecodedError {
        let name = "REP \(hexByte(reply))"
        if reply == 0 {
            return DecodedError(
                name: name,
                value: 0,
                summary: "succeeded",
                sentence: "The server carried out the request.",
                hint: nil
            )
        }
        let code = SOCKS5ErrorCode(reply: ReplyCode(rawValue: reply))!
        let e = entry(code, command: command)
        let sentence =
            reply <= 8 ? e.sentence : "The server answered with reply code \(reply), which RFC 1928 does not assign."
        return DecodedError(name: name, value: Int32(reply), summary: e.summary, sentence: sentence, hint: e.hint)
    }

    /// An errno value.
    public static func decode(errno value: Int32) -> DecodedError {
        if let e = errnoEntries.first(where: { $0.value == value }) {
            return DecodedError(name: e.name, value: value, summary: e.summary, sentence: e.sentence, hint: e.hint)
        }
        let text = String(cString: strerror(value))
        return DecodedError(name: "errno \(value)", value: value, summary: text, sentence: text + ".", hint: nil)
    }

    /// A library failure: its S5 code when it has one, else its errno.
    public static func decode(_ error: SOCKS5Error) -> DecodedError {
        guard let code = error.code else {
            var d = decode(errno: error.systemError)
            if let hint = error.hint { d.hint = hint }
            return d
        }
        let e = entry(code, command: error.command, phase: error.phase)
        var d = DecodedError(
            name: code.name,
            value: code.rawValue,
            summary: e.summary,
            sentence: e.sentence,
            hint: error.hint ?? e.hint
        )
        if code == .unassignedReply, let rep = error.replyByte {
            d.sentence =
                "The server answered with reply code \(rep) (0x\(hexByte(rep))), which RFC 1928 does not assign."
        }
        return d
    }

    /// Everything a piece of text can name: "S5_EOPNOTSUPP" or "EOPNOTSUPP" (an S5 name, then an
    /// errno name), "REP 7" / "rep7" / "0x07" (a REP byte), or a bare number (the S5 code, the REP
    /// byte and the errno of that value). Empty when it names nothing.
    public static func lookup(_ text: String) -> [DecodedError] {
        let t = text.trimmingSpaces.uppercased()
        if t.hasPrefix("S5_"), let c = SOCKS5ErrorCode(name: t) { return [decode(s5: c.rawValue)] }
        if t.hasPrefix("REP") {
            let digits = t.dropFirst(3).drop(while: { $0 == " " })
            if let v = parseByte(String(digits)) { return [decode(reply: v)] }
            return []
        }
        if t.hasPrefix("0X"), let v = UInt8(t.dropFirst(2), radix: 16) { return [decode(reply: v)] }
        if let n = Int32(t) {
            var found: [DecodedError] = []
            if SOCKS5ErrorCode(rawValue: n) != nil { found.append(decode(s5: n)) }
            if (0...255).contains(n) { found.append(decode(reply: UInt8(n))) }
            if errnoEntries.contains(where: { $0.value == n }) { found.append(decode(errno: n)) }
            return found
        }
        var found: [DecodedError] = []
        if let c = SOCKS5ErrorCode(name: t) { found.append(decode(s5: c.rawValue)) }
        if let e = errnoEntries.first(where: { $0.name == t }) { found.append(decode(errno: e.value)) }
        return found
    }

    private static func parseByte(_ s: String) -> UInt8? {
        if s.hasPrefix("0X") { return UInt8(s.dropFirst(2), radix: 16) }
        return UInt8(s)
    }

    private struct Entry {
        var summary: String
        var sentence: String
        var hint: String?
    }

    private static func entry(_ code: SOCKS5ErrorCode, command: Command? = nil, phase: HandshakePhase? = nil) -> Entry {
        switch code {
        case .serverFailure:
            return Entry(
                summary: "general server failure",
                sentence: "The SOCKS server reported a general failure (REP 1).",
                hint: "The server's own log says why."
            )
        case .notAllowed:
            return Entry(
                summary: "not allowed by rule set",
                sentence: "The SOCKS server's rules do not allow this request (REP 2).",
                hint: command == .udpAssociate
                    ? "Dante matches a udpassociate rule's 'from' against the address the client declares; "
                        + "check the rules for UDP."
                    : "Check the server's access rules for this client and target."
            )
        case .networkUnreachable:
            return Entry(
                summary: "network unreachable",
                sentence: "The SOCKS server could not reach the target's network (REP 3).",
                hint: nil
            )
        case .hostUnreachable:
            return Entry(
                summary: "host unreachable",
                sentence: "The SOCKS server could not reach the target host (REP 4).",
                hint: nil
            )
        case .connectionRefused:
            return Entry(
                summary: "connection refused by target",
                sentence: "The target refused the SOCKS server's connection (REP 5).",
                hint: "Nothing listens on the target port, as seen from the server."
            )
        case .ttlExpired:
            return Entry(
                summary: "TTL expired",
                sentence: "The SOCKS server gave up reaching the target: TTL expired (REP 6).",
                hint: nil
            )
        case .commandNotSupported:
            return Entry(
                summary: "command not supported",
                sentence:
                    "The SOCKS server does not support the \(command.map { "\($0)" } ?? "requested") command (REP 7).",
                hint: command != nil && command != .udpAssociate
                    ? nil
                    : "Many servers (microsocks among them) have no UDP relay: UDP ASSOCIATE needs a server "
                        + "that supports it, such as Dante."
            )
        case .addressTypeNotSupported:
            return Entry(
                summary: "address type not supported",
                sentence: "The SOCKS server does not support the address type of the request (REP 8).",
                hint: "Try the other address family, or an IP address instead of a domain name."
            )
        case .noServer:
            return Entry(
                summary: "no SOCKS server",
                sentence: "No SOCKS server is configured for this destination.",
                hint: "Add a record for it to /etc/socks5c.conf, or name the file in SOCKS5C_CONFIG."
            )
        case .noAcceptableMethod:
            return Entry(
                summary: "no acceptable authentication method",
                sentence: "The SOCKS server accepted none of the authentication methods offered (it answered FF).",
                hint: "The server probably requires username/password: give credentials (socks5://user@host:port, "
                    + "or SOCKS_USERNAME and SOCKS_PASSWORD, which the CLI and the C API read; in the "
                    + "configuration, username and password_env)."
            )
        case .authenticationFailed:
            return Entry(
                summary: "authentication failed",
                sentence: "The SOCKS server rejected the username and password (RFC 1929).",
                hint: "Check the username and password configured for this server."
            )
        case .malformedReply:
            return Entry(
                summary: "malformed reply",
                sentence: "The SOCKS server sent a reply that breaks RFC 1928.",
                hint: "Is this port really a SOCKS5 server? A SOCKS4 or HTTP proxy answers with other bytes."
            )
        case .unassignedReply:
            return Entry(
                summary: "unassigned reply code",
                sentence: "The SOCKS server answered with a reply code RFC 1928 does not assign.",
                hint: nil
            )
        case .closedDuringHandshake:
            return Entry(
                summary: "server closed the connection",
                sentence: "The SOCKS server closed the control connection before its "
                    + "\(phase.map { "\($0)" } ?? "reply") was complete.",
                hint: closedHint(phase)
            )
        case .methodNotOffered:
            return Entry(
                summary: "server chose a method not offered",
                sentence: "The SOCKS server selected an authentication method the client did not offer, "
                    + "which RFC 1928 forbids.",
                hint: "A server that insists on username/password answers so even when only "
                    + "'no authentication' is offered: give credentials for it."
            )
        case .boundAddressFamily:
            return Entry(
                summary: "relay address of another family",
                sentence: "The SOCKS server answered with an unspecified relay address (0.0.0.0 or ::) of the "
                    + "other family than the control connection, and no address of the server in that family "
                    + "is known.",
                hint: "Reach the server by an address of the relay's family (its IPv4 address for BND "
                    + "0.0.0.0), name it by a host name that has one, or ask for the other family (--family)."
            )
        case .configurationFile:
            return Entry(
                summary: "client configuration file unusable",
                sentence: "The client configuration file (/etc/socks5c.conf, or the file SOCKS5C_CONFIG names) "
                    + "has a malformed line or cannot be read, so no server can be chosen from it.",
                hint: "Run `socksdeck getserv ADDRESS` to see the file, the line and what is wrong with it."
            )
        case .domainBoundAddress:
            return Entry(
                summary: "bound address is a domain name",
                sentence:
                    "The SOCKS server gave its bound (relay) address as a domain name, which cannot be used as "
                    + "a socket address.",
                hint: "The Swift API returns the name as is; resolve it yourself."
            )
        }
    }

    /// What closing at each point of the handshake usually means, from the servers measured.
    private static func closedHint(_ phase: HandshakePhase?) -> String {
        switch phase {
        case .methodSelection:
            "It closed after the greeting: some servers close instead of answering FF when they accept none of "
                + "the methods offered, or when they limit connections; is this port a SOCKS5 server?"
        case .authentication:
            "It closed after the username and password: some servers refuse credentials by closing instead of "
                + "answering an RFC 1929 failure status; check the username and password."
        case .reply, .secondBindReply, nil:
            "Servers close without a complete reply on commands they do not know or on a rule violation; "
                + "the server's log says which."
        }
    }

    private struct ErrnoEntry {
        var value: Int32
        var name: String
        var summary: String
        var sentence: String
        var hint: String?
    }

    /// Every errno the library can set, in words for someone debugging a proxy.
    private static let errnoEntries: [ErrnoEntry] = [
        ErrnoEntry(
            value: ECONNREFUSED,
            name: "ECONNREFUSED",
            summary: "connection refused",
            sentence: "Nothing accepted the connection: no process listens on that address and port.",
            hint: "Is the SOCKS server running, on this port?"
        ),
        ErrnoEntry(
            value: ETIMEDOUT,
            name: "ETIMEDOUT",
            summary: "timed out",
            sentence: "The peer did not answer in time.",
            hint: "Is the server overloaded, or is something in between dropping packets? The C API waits "
                + "\(defaultHandshakeTimeoutMilliseconds / 1000) s per handshake message unless the socket "
                + "has SO_RCVTIMEO; SocksDeck waits connect_timeout_ms and handshake_timeout_ms."
        ),
        ErrnoEntry(
            value: ENETUNREACH,
            name: "ENETUNREACH",
            summary: "network unreachable",
            sentence: "There is no route to that network.",
            hint: nil
        ),
        ErrnoEntry(
            value: EHOSTUNREACH,
            name: "EHOSTUNREACH",
            summary: "host unreachable",
            sentence: "The host cannot be reached.",
            hint: nil
        ),
        ErrnoEntry(
            value: ECONNRESET,
            name: "ECONNRESET",
            summary: "connection reset",
            sentence: "The peer closed or reset the connection.",
            hint: nil
        ),
        ErrnoEntry(
            value: EPIPE,
            name: "EPIPE",
            summary: "broken pipe",
            sentence: "The peer closed the connection while data was being sent.",
            hint: nil
        ),
        ErrnoEntry(
            value: EPROTO,
            name: "EPROTO",
            summary: "protocol error",
            sentence: "The peer broke the protocol.",
            hint: nil
        ),
        ErrnoEntry(
            value: EACCES,
            name: "EACCES",
            summary: "access denied",
            sentence: "Permission was refused.",
            hint: nil
        ),
        ErrnoEntry(
            value: EOPNOTSUPP,
            name: "EOPNOTSUPP",
            summary: "operation not supported",
            sentence: "The operation is not supported.",
            hint: nil
        ),
        ErrnoEntry(
            value: EAFNOSUPPORT,
            name: "EAFNOSUPPORT",
            summary: "address family not supported",
            sentence:
                "The address family does not fit: the address is neither IPv4 nor IPv6, or differs from the "
                + "socket's family.",
            hint: nil
        ),
        ErrnoEntry(
            value: EINVAL,
            name: "EINVAL",
            summary: "invalid argument",
            sentence:
                "An argument is invalid: a NULL or too short address, a length that does not match the family, "
                + "or a socket that is not SOCK_STREAM.",
            hint: nil
        ),
        ErrnoEntry(
            value: EFAULT,
            name: "EFAULT",
            summary: "bad address",
            sentence: "A pointer argument is NULL or invalid.",
            hint: nil
        ),
        ErrnoEntry(
            value: EBADF,
            name: "EBADF",
            summary: "bad file descriptor",
            sentence: "The socket is not an open file descriptor.",
            hint: nil
        ),
        ErrnoEntry(
            value: ENOTSOCK,
            name: "ENOTSOCK",
            summary: "not a socket",
            sentence: "The descriptor is not a socket.",
            hint: nil
        ),
        ErrnoEntry(
            value: EISCONN,
            name: "EISCONN",
            summary: "already connected",
            sentence: "The socket is already connected.",
            hint: "Pass a fresh, unconnected SOCK_STREAM socket: the library connects it."
        ),
        ErrnoEntry(
            value: ENOTCONN,
            name: "ENOTCONN",
            summary: "not connected",
            sentence: "The socket is not connected.",
            hint: nil
        ),
        ErrnoEntry(
            value: EINPROGRESS,
            name: "EINPROGRESS",
            summary: "connect in progress",
            sentence: "The socket is non-blocking and the connection is still being made.",
            hint: "The library's calls need a blocking socket."
        ),
        ErrnoEntry(
            value: EALREADY,
            name: "EALREADY",
            summary: "connect already in progress",
            sentence: "A connection attempt is already in progress on the socket.",
            hint: nil
        ),
        ErrnoEntry(
            value: EADDRINUSE,
            name: "EADDRINUSE",
            summary: "address in use",
            sentence: "The local address is already in use.",
            hint: nil
        ),
        ErrnoEntry(
            value: EADDRNOTAVAIL,
            name: "EADDRNOTAVAIL",
            summary: "address not available",
            sentence: "The address is not available on this machine.",
            hint: nil
        ),
        ErrnoEntry(
            value: ENETDOWN,
            name: "ENETDOWN",
            summary: "network down",
            sentence: "The network is down.",
            hint: nil
        ),
        ErrnoEntry(
            value: ENOSPC,
            name: "ENOSPC",
            summary: "no space",
            sentence: "The system ran out of a resource.",
            hint: nil
        ),
        ErrnoEntry(
            value: ENOBUFS,
            name: "ENOBUFS",
            summary: "no buffer space",
            sentence: "The system ran out of socket buffers.",
            hint: nil
        ),
        ErrnoEntry(
            value: ENOMEM,
            name: "ENOMEM",
            summary: "no room",
            sentence: "Out of memory, or the buffer given is too small for the address.",
            hint: nil
        ),
        ErrnoEntry(
            value: EMSGSIZE,
            name: "EMSGSIZE",
            summary: "message too long",
            sentence:
                "The datagram with its SOCKS header is larger than UDP allows (65,507 bytes over IPv4, 65,527 "
                + "over IPv6).",
            hint: nil
        ),
        ErrnoEntry(
            value: EAGAIN,
            name: "EAGAIN",
            summary: "would block / timed out",
            sentence: "Nothing arrived: the socket is non-blocking or its receive timeout expired.",
            hint: nil
        ),
        ErrnoEntry(
            value: EINTR,
            name: "EINTR",
            summary: "interrupted",
            sentence: "A signal interrupted the call.",
            hint: nil
        ),
        ErrnoEntry(
            value: ENOENT,
            name: "ENOENT",
            summary: "no such file",
            sentence: "The file does not exist.",
            hint: nil
        ),
        ErrnoEntry(
            value: EPERM,
            name: "EPERM",
            summary: "operation not permitted",
            sentence: "The operation is not permitted.",
            hint: nil
        ),
    ]
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\n" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" || l == "\r" { s.removeLast() }
        return String(s)
    }
}
