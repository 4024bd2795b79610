import Foundation
import Testing

/// The real binary in a tmux session: keys in with send-keys, the screen out with capture-pane.
/// A tmux server of its own (-L), so a user's sessions are never touched.
final class TmuxSession {
    static let socketName = "socksdeck-tests-\(getpid())"
    let name: String
    private let tmux: String
    /// The folder where a sanitizer in the program writes its report (log_path): in the pane a
    /// report goes to a terminal nobody reads, and the program simply vanishes from the screen.
    private let sanitizerFolder: String
    private var ended = false

    init(width: Int = 120, height: Int = 35, arguments: [String], environment: [String: String] = [:]) throws {
        guard let tmux = PeerProcess.which("tmux") else {
            throw PeerError.missing("tmux is not installed: apt-get install -y tmux")
        }
        self.tmux = tmux
        name = "t\(UInt32.random(in: 0...UInt32.max))"
        sanitizerFolder = try makeTemporaryDirectory("tuisan")
        var env = environment.merging(["LANG": "C.UTF-8", "TERM": "tmux-256color"]) { a, _ in a }
        for variable in ["ASAN_OPTIONS", "TSAN_OPTIONS"] {
            let inherited = ProcessInfo.processInfo.environment[variable].map { $0 + " " } ?? ""
            env[variable] = inherited + "log_path=\(sanitizerFolder)/report"
        }
        // NO_COLOR from the test runner's environment would pick the monochrome theme.
        let command =
            (["env", "-u", "NO_COLOR"] + env.map { "\($0.key)=\($0.value)" } + [try CLITests.binary()] + arguments)
            .map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let r = try runToCompletion(
            tmux,
            [
                "-L", Self.socketName, "new-session", "-d", "-s", name, "-x", "\(width)", "-y", "\(height)",
                command + "; sleep 30",
            ]
        )
        guard r.status == 0 else { throw PeerError.failed("tmux new-session failed: \(r.output)") }
    }

    /// `socksdeck --demo` with a configuration directory of its own, so that no saved theme or
    /// server of the machine's user leaks in.
    static func demo() throws -> TmuxSession {
        try TmuxSession(arguments: ["--demo"], environment: ["XDG_CONFIG_HOME": try makeTemporaryDirectory("tuixdg")])
    }

    func send(_ keys: String...) {
        _ = try? runToCompletion(tmux, ["-L", Self.socketName, "send-keys", "-t", name] + keys)
    }

    /// A left click at a screen cell (0-based), as an xterm sends it (X10 encoding, which the
    /// terminfo entry's kmous names): press, then release.
    func click(y: Int, x: Int) {
        mouse(button: 0, y: y, x: x)
        mouse(button: 3, y: y, x: x)
    }

    /// The wheel, up or down, at a cell.
    func wheel(up: Bool, y: Int, x: Int) { mouse(button: up ? 64 : 65, y: y, x: x) }

    private func mouse(button: Int, y: Int, x: Int) {
        let bytes = [0x1B, 0x5B, 0x4D, 32 + button, 33 + x, 33 + y].map { Character(Unicode.Scalar(UInt8($0))) }
        send("-l", String(bytes))
    }

    func capture() -> String {
        (try? runToCompletion(tmux, ["-L", Self.socketName, "capture-pane", "-p", "-t", name]).output) ?? ""
    }

    /// Polls the screen until `text` shows (bounded); returns the last screen either way.
    @discardableResult
    func waitFor(_ text: String, seconds: Double = 8) -> (found: Bool, screen: String) {
        waitFor(seconds: seconds) { $0.contains(text) }
    }

    /// Polls the screen until it satisfies `isDone` (bounded). Several things that one frame
    /// draws are waited for together, never one then the other read off the same capture: tmux
    /// can be caught between two writes of a frame, with the top of the screen new and the
    /// bottom old.
    func waitFor(seconds: Double = 8, until isDone: (String) -> Bool) -> (found: Bool, screen: String) {
        let deadline = Date().addingTimeInterval(seconds)
        var screen = ""
        while Date() < deadline {
            screen = capture()
            if isDone(screen) { return (true, screen) }
            usleep(100_000)
        }
        return (false, screen + sanitizerNote)
    }

    /// What a sanitizer reported about the program so far (nil when nothing).
    var sanitizerReport: String? {
        let reports = ((try? FileManager.default.contentsOfDirectory(atPath: sanitizerFolder)) ?? []).sorted()
            .compactMap { try? String(contentsOfFile: sanitizerFolder + "/" + $0, encoding: .utf8) }
        return reports.isEmpty ? nil : reports.joined(separator: "\n")
    }

    private var sanitizerNote: String { sanitizerReport.map { "\n--- sanitizer report ---\n" + $0 } ?? "" }

    func resize(width: Int, height: Int) {
        _ = try? runToCompletion(
            tmux,
            ["-L", Self.socketName, "resize-window", "-t", name, "-x", "\(width)", "-y", "\(height)"]
        )
    }

    /// The pid of the program in the pane (for CPU measurements and to check it is alive).
    var panePID: Int32? {
        let out =
            (try? runToCompletion(tmux, ["-L", Self.socketName, "list-panes", "-t", name, "-F", "#{pane_pid}"]).output)
            ?? ""
        return Int32(out.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The pid of socksdeck itself, the child of the pane's shell; nil once it has ended.
    var programPID: Int32? {
        guard let shell = panePID else { return nil }
        let children = (try? runToCompletion("/usr/bin/pgrep", ["-P", "\(shell)", "socksdeck"]).output) ?? ""
        return children.split(separator: "\n").first.flatMap { Int32($0) }
    }

    /// Ends the session; a sanitizer report on the program fails the test that ran it.
    func kill() {
        guard !ended else { return }
        ended = true
        _ = try? runToCompletion(tmux, ["-L", Self.socketName, "kill-session", "-t", name])
        if let report = sanitizerReport {
            Issue.record("a sanitizer reported on socksdeck in tmux:\n\(report)")
        } else {
            try? FileManager.default.removeItem(atPath: sanitizerFolder)
        }
    }

    deinit { kill() }
}
