import Foundation

/// Counts events in one-second buckets over the last minute: the rate over the last few
/// seconds, and the per-second history a sparkline draws. Fixed storage: recording allocates
/// nothing.
package struct RateMeter: Sendable, Equatable {
    package static let seconds = 60
    private var buckets = [Int](repeating: 0, count: RateMeter.seconds)
    private var newestSecond = 0

    package init() {}

    package mutating func record(_ n: Int = 1, at time: Date = Date()) {
        advance(to: Int(time.timeIntervalSince1970))
        buckets[newestSecond % Self.seconds] += n
    }

    private mutating func advance(to second: Int) {
        guard second > newestSecond else { return }
        let gap = min(second - newestSecond, Self.seconds)
        for i in 1...gap { buckets[(newestSecond + i) % Self.seconds] = 0 }
        newestSecond = second
    }

    /// Events per second over the last `window` whole seconds (the current one excluded).
    package func perSecond(window: Int = 5, now: Date = Date()) -> Double {
        var copy = self
        copy.advance(to: Int(now.timeIntervalSince1970))
        let w = min(max(window, 1), Self.seconds - 1)
        let total = (1...w).reduce(0) { $0 + copy.buckets[(copy.newestSecond - $1 + Self.seconds) % Self.seconds] }
        return Double(total) / Double(w)
    }

    /// Counts of the last `count` whole seconds, oldest first.
    package func history(_ count: Int = 30, now: Date = Date()) -> [Int] {
        var copy = self
        copy.advance(to: Int(now.timeIntervalSince1970))
        let n = min(count, Self.seconds - 1)
        return (1...n).reversed().map { copy.buckets[(copy.newestSecond - $0 + Self.seconds) % Self.seconds] }
    }
}
