import Dispatch
import Foundation
import Synchronization

/// Becomes set when one of the given signals arrives (SIGINT and SIGTERM by default), so that a
/// loop can end cleanly: close its associations, restore the terminal, print its figures.
/// The signals are ignored by default while it lives and handled on a dispatch queue.
package final class SignalFlag: Sendable {
    private struct State {
        var set = false
        var first: Int32?
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())
    /// Kept for as long as the flag lives: a signal source that is released stops delivering.
    private let sources: Mutex<[(signal: Int32, source: any DispatchSourceSignal)]>

    package init(_ signals: [Int32] = [SIGINT, SIGTERM]) {
        sources = Mutex(
            signals.map { sig in
                signal(sig, SIG_IGN)
                return (sig, DispatchSource.makeSignalSource(signal: sig))
            }
        )
        sources.withLock {
            for (sig, source) in $0 {
                source.setEventHandler { [weak self] in self?.fire(sig) }
                source.resume()
            }
        }
    }

    package var isSet: Bool { state.withLock { $0.set } }

    /// How the first signal that arrived is called where the user sees it: "Ctrl-C" for SIGINT
    /// (what a person presses), the signal's name otherwise ("SIGTERM", sent by a supervisor).
    package var arrivedAs: String? {
        state.withLock { $0.first }.map { $0 == SIGINT ? "Ctrl-C" : $0 == SIGTERM ? "SIGTERM" : "signal \($0)" }
    }

    /// Returns once a signal has arrived.
    package func wait() async {
        await withCheckedContinuation { continuation in
            let already = state.withLock { s -> Bool in
                if s.set { return true }
                s.waiters.append(continuation)
                return false
            }
            if already { continuation.resume() }
        }
    }

    private func fire(_ signal: Int32) {
        let toResume = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.set = true
            if s.first == nil { s.first = signal }
            defer { s.waiters = [] }
            return s.waiters
        }
        for waiter in toResume { waiter.resume() }
    }
}
