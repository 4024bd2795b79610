#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The catalogue's words for each S5 code, by command and handshake phase where they differ.
extension ErrorCatalogue {
    struct Entry {
        var summary: String
        var sentence: String
        var hint: String?
    }

    static func entry(_ code: SOCKS5ErrorCode, command: Command? = nil, phase: HandshakePhase? = nil) -> Entry {
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
                    + "0.0.0.0), name it by a host name that has one, or ask for a relay of the other family."
            )
        case .configurationFile:
            return Entry(
                summary: "client configuration file unusable",
                sentence: "The client configuration file (/etc/socks5c.conf, or the file SOCKS5C_CONFIG names) "
                    + "has a malformed line or cannot be read, so no server can be chosen from it.",
                hint: "Correct or remove the line the detail names, or point SOCKS5C_CONFIG at a file that is right."
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
    static func closedHint(_ phase: HandshakePhase?) -> String {
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
}
