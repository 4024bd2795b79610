import SocksDeckEngine
import UDPChecks

/// A check's result as `check --json` writes it: the engine's typed finding spread over the keys
/// the JSON has always had, its round trip in milliseconds.
struct CheckResultJSON: Encodable {
    var check: String
    var target: String
    var answered: Bool
    var passed: Bool
    var summary: String
    var evidence: [String]
    var roundTripMilliseconds: Double?
    var sends: Int
    var mappedAddress: String?
    var natMapping: String?
    var natFiltering: String?
    var natFilteringAfterMapping: String?
    var natType: String?
    var quicVersions: [String]?

    init(_ r: CheckResult) {
        (check, target, answered, passed, summary, evidence) =
            (r.check.rawValue, r.target.description, r.answered, r.passed, r.summary, r.evidence)
        (roundTripMilliseconds, sends) = (r.roundTrip?.milliseconds, r.sends)
        switch r.finding {
        case .stun(let mapped): mappedAddress = mapped.description
        case .nat(let nat):
            mappedAddress = nat.mapped.description
            (natMapping, natFiltering) = (nat.mapping?.rawValue, nat.filtering?.rawValue)
            (natFilteringAfterMapping, natType) = (nat.filteringAfterMapping?.rawValue, nat.legacyName)
        case .quic(let versions): quicVersions = versions.map(QUICVersion.name)
        case .noAnswer, .unusable, .dns, .ntp: break
        }
    }
}
