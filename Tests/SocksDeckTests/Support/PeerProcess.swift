import Foundation

/// A real peer (danted, microsocks) run by the tests: started in the background with its output
/// in a log file, stopped by its pid, never by name.
final class PeerProcess: @unchecked Sendable {
    let name: String
    let pid: pid_t
    let logPath: String
    private let lock = NSLock()
    private var exited = false

    init(name: String, executable: String, arguments: [String], logPath: String) throws {
        guard let path = PeerProcess.which(executable) else {
            throw PeerError.missing(
                "\(executable) is not installed: apt-get install -y \(PeerProcess.package(for: executable))"
            )
        }
        self.name = name
        self.logPath = logPath
        pid = try spawn(path, arguments, logPath: logPath)
        PeerRegistry.add(pid)
    }

    var isRunning: Bool {
        lock.withLock {
            if exited { return false }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { exited = true }
            return !exited
        }
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// SIGTERM to the whole process group, then SIGKILL after 5 s. The group, not the pid:
    /// measured here, Dante's io-child that carries a live UDP session outlives a SIGTERM to the
    /// mother process by more than 30 s, holding the control connection open.
    func stop() {
        guard isRunning else { return }
        kill(-pid, SIGTERM)
        let deadline = Date().addingTimeInterval(5)
        while isRunning && Date() < deadline { usleep(20_000) }
        if isRunning {
            kill(-pid, SIGKILL)
            while isRunning { usleep(10_000) }
        }
        PeerRegistry.remove(pid)
    }

    /// Waits (bounded) until a TCP connect to the port succeeds.
    func waitUntilListening(port: UInt16, host: String = "127.0.0.1", seconds: Double = 10) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if !isRunning { throw PeerError.failed("\(name) exited: \(log)") }
            if TestSockets.canConnect(host: host, port: port) { return }
            usleep(50_000)
        }
        throw PeerError.failed("\(name) did not listen on \(host):\(port) within \(seconds) s: \(log)")
    }

    /// The program as the shell would find it: PATH first (so that python3 is the one pip
    /// installed PySocks into), then the sbin folders a non-root PATH may lack (danted). A path
    /// (the socksdeck just built) is taken as it is.
    static func which(_ executable: String) -> String? {
        if executable.hasPrefix("/") {
            return FileManager.default.isExecutableFile(atPath: executable) ? executable : nil
        }
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for dir in path + ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin", "/usr/local/sbin"] {
            let path = "\(dir)/\(executable)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    static func package(for executable: String) -> String {
        switch executable {
        case "danted": "dante-server"
        case "ss-local", "ss-server": "shadowsocks-libev"
        case "gcc": "gcc"
        case "dnsmasq": "dnsmasq-base"
        case "chronyd": "chrony"
        case "turnserver": "coturn"
        default: executable
        }
    }
}

/// posix_spawn with stdin from /dev/null and stdout+stderr to `logPath`. (Foundation's Process
/// on Linux reaps children on one thread and hangs waiting for a long-lived one such as danted.)
func spawn(_ path: String, _ arguments: [String], logPath: String, environment: [String: String]? = nil) throws -> pid_t
{
    if TestTier.fastOnly {
        throw PeerError.failed("\(path) started in the fast tier: mark this test's suite .tags(.peers), .needsPeers")
    }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    let env = environment ?? ProcessInfo.processInfo.environment
    let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { for p in envp { free(p) } }
    // The test runner's threads block signals; a child inherits the mask, and a microsocks with
    // SIGTERM blocked would outlive the tests. Start it with an empty mask and default handlers.
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var empty = sigset_t()
    sigemptyset(&empty)
    var all = sigset_t()
    sigfillset(&all)
    posix_spawnattr_setsigmask(&attributes, &empty)
    posix_spawnattr_setsigdefault(&attributes, &all)
    // A process group of its own, so that stop() reaches Dante's children too (see stop()).
    posix_spawnattr_setpgroup(&attributes, 0)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
    guard rc == 0 else { throw PeerError.failed("cannot start \(path): \(String(cString: strerror(rc)))") }
    return pid
}

/// Runs a program to completion (bounded), returning its exit status and output.
func runToCompletion(
    _ path: String,
    _ arguments: [String],
    environment: [String: String]? = nil,
    seconds: Double = 120
) throws -> (status: Int32, output: String) {
    let dir = try makeTemporaryDirectory("run")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let log = dir + "/output"
    let pid = try spawn(path, arguments, logPath: log, environment: environment)
    let deadline = Date().addingTimeInterval(seconds)
    var status: Int32 = 0
    while waitpid(pid, &status, WNOHANG) == 0 {
        if Date() > deadline {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
            throw PeerError.failed("\(path) did not finish within \(seconds) s")
        }
        usleep(10_000)
    }
    let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
    // WIFEXITED / WEXITSTATUS are macros Swift cannot import.
    let exitCode = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    return (exitCode, output)
}

enum PeerError: Error, CustomStringConvertible {
    case missing(String)
    case failed(String)

    var description: String {
        switch self {
        case .missing(let s), .failed(let s): s
        }
    }
}

/// Every peer still running when the test process exits is killed, so a failing run leaves no
/// server behind.
enum PeerRegistry {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var pids: Set<Int32> = []
    nonisolated(unsafe) private static var installed = false

    static func add(_ pid: Int32) {
        lock.lock()
        defer { lock.unlock() }
        pids.insert(pid)
        if !installed {
            installed = true
            atexit {
                PeerRegistry.lock.lock()
                for pid in PeerRegistry.pids { kill(-pid, SIGTERM) }
                PeerRegistry.lock.unlock()
            }
        }
    }

    static func remove(_ pid: Int32) {
        lock.lock()
        pids.remove(pid)
        lock.unlock()
    }
}

/// Paths inside the repository.
enum Repository {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    static func path(_ relative: String) -> String { root + "/" + relative }
}

/// A fresh temporary folder for one peer's files.
func makeTemporaryDirectory(_ prefix: String) throws -> String {
    let template = NSTemporaryDirectory() + "socksdeck-\(prefix)-XXXXXX"
    var bytes = Array(template.utf8CString)
    guard let result = mkdtemp(&bytes) else { throw PeerError.failed("mkdtemp failed") }
    return String(cString: result)
}
