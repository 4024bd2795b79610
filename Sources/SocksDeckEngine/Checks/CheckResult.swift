import Socks5
import UDPChecks

/// What a check found: the typed finding, and the check's own account of how it got there (a
/// summary line and the evidence, a line each) for the CLI, its JSON and the TUI.
package struct CheckResult: Sendable, Equatable {
    package var check: CheckKind
    package var target: SOCKSAddress
    package var finding: CheckFinding
    /// One line: the figure that matters (the answer, the offset, the mapped address).
    package var summary: String
    /// The evidence behind it, a line each.
    package var evidence: [String]
    package var roundTrip: Duration?
    package var sends: Int

    package init(
        check: CheckKind,
        target: SOCKSAddress,
        finding: CheckFinding,
        summary: String,
        evidence: [String],
        roundTrip: Duration? = nil,
        sends: Int
    ) {
        (self.check, self.target, self.finding, self.summary) = (check, target, finding, summary)
        (self.evidence, self.roundTrip, self.sends) = (evidence, roundTrip, sends)
    }

    /// An answer to our request came back through the relay (the data plane works).
    package var answered: Bool { finding.answered }
    /// The answer is what the service should say (a DNS error code is an answer, not a pass).
    package var passed: Bool { finding.passed }
}

/// Each check's finding, with what that check measures.
package enum CheckFinding: Sendable, Equatable {
    /// Nothing came back.
    case noAnswer
    /// Something came back that does not pass: not the protocol, not ours, or cut.
    case unusable
    /// The resolver's answer (NXDOMAIN is an answer; SERVFAIL and REFUSED are not).
    case dns(DNSResponse)
    /// The server's time, T1 and T4 taken beside the engine's socket.
    case ntp(stratum: UInt8, offset: Duration, delay: Duration)
    /// The relay's address as the STUN server sees it.
    case stun(mapped: STUNAddress)
    case nat(NATFinding)
    /// The versions the server's Version Negotiation offers.
    case quic(versions: [UInt32])

    package var answered: Bool {
        switch self {
        case .noAnswer: false
        default: true
        }
    }

    package var passed: Bool {
        switch self {
        case .noAnswer, .unusable: false
        case .dns(let response): response.responseCode.isAnswer
        case .ntp, .stun, .quic: true
        case .nat(let nat): nat.mapping != nil
        }
    }
}

/// RFC 5780's findings, as far as the server and the relay let the test get.
package struct NATFinding: Sendable, Equatable {
    /// The relay's address as test I's server saw it.
    package var mapped: STUNAddress
    package var mapping: NATBehaviour?
    /// Filtering in the fresh association, then once the mapping tests have sent elsewhere.
    package var filtering: NATBehaviour?
    package var filteringAfterMapping: NATBehaviour?

    package init(
        mapped: STUNAddress,
        mapping: NATBehaviour? = nil,
        filtering: NATBehaviour? = nil,
        filteringAfterMapping: NATBehaviour? = nil
    ) {
        (self.mapped, self.mapping, self.filtering) = (mapped, mapping, filtering)
        self.filteringAfterMapping = filteringAfterMapping
    }

    /// RFC 3489's name, which people still ask about, once mapping and filtering are both known.
    package var legacyName: String? {
        guard let mapping, let filtering else { return nil }
        guard mapping == .endpointIndependent else { return "symmetric NAT" }
        switch filtering {
        case .endpointIndependent: return "full cone"
        case .addressDependent: return "restricted cone"
        case .addressAndPortDependent: return "port-restricted cone"
        }
    }
}
