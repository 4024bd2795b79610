import SocksDeckEngine

/// A check's result as `check --json` writes it: the engine's typed value, its round trip in
/// milliseconds under the key it has always had.
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
            (r.check, r.target, r.answered, r.passed, r.summary, r.evidence)
        (roundTripMilliseconds, sends, mappedAddress) = (r.roundTrip?.milliseconds, r.sends, r.mappedAddress)
        (natMapping, natFiltering, natFilteringAfterMapping, natType) =
            (r.natMapping, r.natFiltering, r.natFilteringAfterMapping, r.natType)
        quicVersions = r.quicVersions
    }
}
