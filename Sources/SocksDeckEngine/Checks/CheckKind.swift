import Socks5
import UDPChecks

/// The protocol checks by name: the CLI's options (`--dns`), the configuration's keys (`dns = …`),
/// the check form's choices and the JSON's `check` all say these words.
package enum CheckKind: String, CaseIterable, Sendable, Codable, CustomStringConvertible {
    case dns, ntp, stun, nat, quic

    /// The port a target given without one gets.
    package var defaultPort: UInt16 {
        switch self {
        case .dns: WellKnownPort.dns
        case .ntp: WellKnownPort.ntp
        case .stun, .nat: WellKnownPort.stun
        case .quic: WellKnownPort.https
        }
    }

    /// The configured target it reads: the NAT test runs against the server's STUN server.
    package var targetKind: CheckKind { self == .nat ? .stun : self }

    /// "host", "host:port", "[v6]" or "[v6]:port" as this check's target, with the default port
    /// when none is given; a name stays a name (ATYP 3) for the relay to resolve.
    package func target(_ text: String) -> SOCKSAddress? {
        SOCKSAddress(destination: text, defaultPort: defaultPort)
    }

    package var description: String { rawValue }
}
