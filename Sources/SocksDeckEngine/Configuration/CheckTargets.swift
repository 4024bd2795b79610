import Socks5

/// Where a server's protocol checks go by default (`dns = "9.9.9.9"`, `ntp = …`, `stun = …`,
/// `quic = …` and `dns_name` in its [[server]] table), parsed once when the file is read.
package struct CheckTargets: Sendable, Equatable {
    package var dns: SOCKSAddress?
    package var ntp: SOCKSAddress?
    package var stun: SOCKSAddress?
    package var quic: SOCKSAddress?
    /// The name a DNS check asks for when none is given.
    package var dnsName: String?

    package init(
        dns: SOCKSAddress? = nil,
        ntp: SOCKSAddress? = nil,
        stun: SOCKSAddress? = nil,
        quic: SOCKSAddress? = nil,
        dnsName: String? = nil
    ) {
        (self.dns, self.ntp, self.stun, self.quic, self.dnsName) = (dns, ntp, stun, quic, dnsName)
    }

    /// The target for a check of this kind; the NAT test's is the STUN server.
    package subscript(kind: CheckKind) -> SOCKSAddress? {
        get {
            switch kind.targetKind {
            case .dns: dns
            case .ntp: ntp
            case .quic: quic
            case .stun, .nat: stun
            }
        }
        set {
            switch kind.targetKind {
            case .dns: dns = newValue
            case .ntp: ntp = newValue
            case .quic: quic = newValue
            case .stun, .nat: stun = newValue
            }
        }
    }

    /// No target of any kind (a DNS name alone is not a target).
    package var isEmpty: Bool { dns == nil && ntp == nil && stun == nil && quic == nil }

    /// The kinds whose targets the configuration file holds, in the order it writes them.
    package static let configuredKinds: [CheckKind] = [.dns, .ntp, .stun, .quic]
}
