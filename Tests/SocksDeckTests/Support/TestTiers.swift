import Foundation
import Testing

/// The tests come in two tiers. The fast tier needs nothing outside this process: no peer
/// (Dante, dnsmasq, tor, …), no built `socksdeck`, no tmux, no compiler, no namespace; it runs
/// in seconds with `SOCKSDECK_TESTS=fast swift test`. The peer tier is everything else, and the
/// full run (README's test command) runs both.
enum TestTier {
    /// Set by `SOCKSDECK_TESTS=fast`: suites marked `.needsPeers` are skipped, and any other test
    /// that starts a process fails, so that a suite in the wrong tier is found at once.
    static let fastOnly = ProcessInfo.processInfo.environment["SOCKSDECK_TESTS"] == "fast"
}

extension Tag {
    /// Starts processes: peers, the `socksdeck` binary, tmux, gcc or a network namespace.
    @Tag static var peers: Self
}

extension Trait where Self == ConditionTrait {
    /// The peer tier's condition, beside `.tags(.peers)`: skipped when only the fast tier runs.
    static var needsPeers: Self {
        .enabled(if: !TestTier.fastOnly, "SOCKSDECK_TESTS=fast runs only the tests that start no process")
    }
}
