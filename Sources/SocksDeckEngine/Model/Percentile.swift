/// The one definition of a percentile that every round-trip figure uses (a health probe's p50 and
/// p99, the capability probe's median, a replay's median): nearest rank, so that a median of an
/// even count is the lower middle value, a value that was measured.
package enum Percentile {
    /// The value at `fraction` (0 to 1) of `sorted` (ascending); nil when there is none.
    package static func nearestRank<Value>(_ fraction: Double, of sorted: [Value]) -> Value? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((Double(sorted.count) * fraction).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}
