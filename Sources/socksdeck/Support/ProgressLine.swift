import Dispatch
import Foundation

/// A line on stderr that says long work is going on ("probing dante: 6 findings, 4 s"), redrawn in
/// place, only when a person watches (stdout and stderr are terminals): never in a pipe or a log,
/// where it would be noise. Cleared before any output line and at the end.
final class ProgressLine: @unchecked Sendable {
    private let enabled: Bool
    private let lock = NSLock()
    private var shown = false
    private var timer: DispatchSourceTimer?

    init(enabled: Bool) {
        self.enabled = enabled && isatty(STDOUT_FILENO) == 1 && isatty(STDERR_FILENO) == 1
    }

    /// Redraws `text()` every quarter second until `stop`.
    func start(_ text: @escaping @Sendable () -> String) {
        guard enabled else { return }
        let timer = DispatchSource.makeTimerSource(queue: .global())
        timer.schedule(deadline: .now(), repeating: .milliseconds(250))
        timer.setEventHandler { [weak self] in self?.show(text()) }
        timer.resume()
        self.timer = timer
    }

    private func show(_ text: String) {
        lock.withLock {
            Output.notice("\r\u{1B}[K" + text, newline: false)
            shown = true
        }
    }

    /// Takes the line away, so that what is printed next starts on a clean line.
    func clear() {
        guard enabled else { return }
        lock.withLock {
            if shown { Output.notice("\r\u{1B}[K", newline: false) }
            shown = false
        }
    }

    /// Runs `body` with the line cleared and kept away meanwhile.
    func printing(_ body: () -> Void) {
        guard enabled else { return body() }
        lock.withLock {
            if shown { Output.notice("\r\u{1B}[K", newline: false) }
            shown = false
            body()
        }
    }

    func stop() {
        timer?.cancel()
        timer = nil
        clear()
    }
}
