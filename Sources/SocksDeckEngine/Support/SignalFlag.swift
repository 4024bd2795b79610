import Dispatch
import Foundation

/// Becomes set when one of the given signals arrives (SIGINT and SIGTERM by default), so that a
/// loop can end cleanly: close its associations, restore the terminal, print its figures.
/// The signals are ignored by default while it lives and handled on a dispatch queue.
public final class SignalFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var set = false
    private var first: Int32?
    private var sources: [DispatchSourceSignal] = []
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public init(_ signals: [Int32] = [SIGINT, SIGTERM]) {
        for sig in signals {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig)
            source.setEventHandler { [weak self] in self?.fire(sig) }
            source.resume()
            sources.append(source)
        }
    }

    public var isSet: Bool { lock.withLock { set } }

    /// How the first signal that arrived is called where the user sees it: "Ctrl-C" for SIGINT
    /// (what a person presses), the signal's name otherwise ("SIGTERM", sent by a supervisor).
    public var arrivedAs: String? {
        lock.withLock { first }.map { $0 == SIGINT ? "Ctrl-C" : $0 == SIGTERM ? "SIGTERM" : "signal \($0)" }
    }

    /// Returns once a signal has arrived.
    public func wait() async {
        await withCheckedContinuation { continuation in
            let already = lock.withLock { () -> Bool in
                if set { return true }
                waiters.append(continuation)
                return false
            }
            if already { continuation.resume() }
        }
    }

    private func fire(_ signal: Int32) {
        let toResume = lock.withLock { () -> [CheckedContinuation<Void, Never>] in
            set = true
            if first == nil { first = signal }
            defer { waiters = [] }
            return waiters
        }
        for waiter in toResume { waiter.resume() }
    }
}
