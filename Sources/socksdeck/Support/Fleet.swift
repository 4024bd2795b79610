import ArgumentParser
import Foundation
import ProcessPolicy
import Socks5
import SocksDeckEngine
import Synchronization

/// Vetting many proxies at once (`check` and `probe` over several servers or `--servers-from`):
/// where the list comes from, how many run at a time, what each proxy's verdict is, and the
/// progress line and closing table both commands share.
enum Fleet {
    /// What a proxy turned out to be, worst last: the closing table is sorted by it and the exit
    /// code is the worst one's.
    enum Verdict: Int, CaseIterable, Comparable, Sendable {
        case works
        /// Associated, but nothing was sent to judge the data plane (no echo target, no check).
        case untested
        case partly
        case noData
        case refused
        case unreachable
        case timedOut

        var words: String {
            switch self {
            case .works: "works"
            case .untested: "associates (data untested)"
            case .partly: "answers, but a check failed"
            case .noData: "accepts but carries no data"
            case .refused: "refused"
            case .unreachable: "unreachable"
            case .timedOut: "timed out"
            }
        }

        /// The key in JSON and the short form in the progress line.
        var key: String {
            switch self {
            case .works: "works"
            case .untested: "untested"
            case .partly: "partly"
            case .noData: "no-data"
            case .refused: "refused"
            case .unreachable: "unreachable"
            case .timedOut: "timed-out"
            }
        }

        var exitCode: ExitCode? {
            switch self {
            case .works, .untested: nil
            case .partly, .noData: Exit.noReply
            case .refused, .unreachable, .timedOut: Exit.operationFailed
            }
        }

        /// A failed association, by what failed: the TCP connection (unreachable), a wait
        /// (timed out), or the server's answer (refused, or a reply that broke the protocol).
        init(failure: AssociationFailure) {
            switch failure.error.systemError {
            case ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, EADDRNOTAVAIL, ENETDOWN, EHOSTDOWN: self = .unreachable
            case ETIMEDOUT: self = .timedOut
            default: self = .refused
            }
        }

        static func < (a: Verdict, b: Verdict) -> Bool { a.rawValue < b.rawValue }
    }

    /// One entry of the list: the text as given and where it was given, for the words of an error.
    struct Entry: Sendable {
        var text: String
        var origin: String
    }

    /// The servers of the arguments and of a list file (one a line, '#' starts a comment, blank
    /// lines skipped; - for stdin), each with its origin ("list.txt:7", "argument 2").
    static func entries(arguments: [String], file: String?) throws -> [Entry] {
        var out = arguments.enumerated().map { Entry(text: $1, origin: "argument \($0 + 1)") }
        guard let file else { return out }
        let text: String
        if file == "-" {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else {
            guard let data = FileManager.default.contents(atPath: file) else {
                Output.error("cannot read the server list \(file): \(SendCommand.whyUnreadable(file))")
                throw Exit.noInput
            }
            text = String(decoding: data, as: UTF8.self)
        }
        let name = file == "-" ? "stdin" : file
        var listed = 0
        // Any line ending: "\r\n" is one Character to Swift, which a split on "\n" would not cut.
        for (index, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let entry = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
                .trimmingCharacters(in: .whitespaces)
            guard !entry.isEmpty else { continue }
            listed += 1
            out.append(Entry(text: entry, origin: "\(name):\(index + 1)"))
        }
        guard listed > 0 else {
            Output.error("the server list \(name) names no server")
            throw Exit.usage
        }
        return out
    }

    /// The entries as servers: a bad entry ends the command (exit 64) with every bad one named by
    /// file and line; a server listed twice (the same address and user, however written) is vetted
    /// once, and said once.
    static func servers(
        _ entries: [Entry],
        options: ConfigurationOptions,
        in configuration: DeckConfiguration
    ) throws -> [ServerDefinition] {
        var definitions: [ServerDefinition] = []
        var firstSeen: [String: String] = [:]
        var bad: [String] = []
        var repeated: [String] = []
        for entry in entries {
            let definition: ServerDefinition
            if configuration.server(named: entry.text) != nil {
                definition = try options.server(entry.text, in: configuration)
            } else {
                do { definition = try ServerDefinition.adHoc(entry.text) } catch {
                    bad.append("\(entry.origin): '\(entry.text)': \(error.message)")
                    continue
                }
            }
            // The same server: the same address (host names in any case) and the same credentials.
            let user = definition.credentials.map { "\($0.username) \($0.password)" } ?? ""
            let key = "\(definition.address.lowercased()) \(user)"
            if let first = firstSeen[key] {
                repeated.append("\(entry.origin): '\(entry.text)' is listed already (\(first))")
                continue
            }
            firstSeen[key] = entry.origin
            definitions.append(definition)
        }
        guard bad.isEmpty else {
            for line in bad.prefix(20) { Output.error(line) }
            if bad.count > 20 { Output.error("and \(bad.count - 20) more entries that are not servers") }
            throw Exit.usage
        }
        if !repeated.isEmpty {
            Output.notice(
                "\(repeated.count) server(s) listed more than once, vetted once: "
                    + repeated.prefix(5).joined(separator: "; ") + (repeated.count > 5 ? "; …" : "")
            )
        }
        return definitions
    }

    /// How many at a time: the user's choice, else as many as the list and the descriptor limit
    /// allow (raised to its hard limit first), at most `maximumParallel`. `perServer` is how many
    /// descriptors one server's work holds at once.
    static func parallelism(asked: Int?, servers: Int, perServer: Int) -> Int {
        let limit = DescriptorLimit.raiseToHardLimit()
        let affordable = max(1, (limit - 64) / perServer)
        guard let asked else { return max(1, min(servers, maximumParallel, affordable)) }
        if asked > affordable {
            Output.warning(
                "--parallel \(asked) needs about \(asked * perServer) descriptors and the limit is \(limit): "
                    + "running \(affordable) at a time"
            )
            return affordable
        }
        return asked
    }

    static let maximumParallel = 1024

    /// Runs `work` for every index, `parallel` at a time; `finished` gets each result as it
    /// comes (on the caller's task, in the order they finish). A progress line on a terminal says
    /// how far it got, how fast, when it will end, and the verdicts so far.
    static func run<Report: Sendable>(
        count total: Int,
        parallel: Int,
        verb: String,
        work: @escaping @Sendable (Int) async -> Report,
        verdict: (Report) -> Verdict,
        finished: (Int, Report) -> Void
    ) async -> (reports: [Report], elapsed: Duration) {
        let tally = Tally()
        // On stderr, and only when a person watches (ProgressLine checks for a terminal).
        let progress = ProgressLine(enabled: true)
        let started = ContinuousClock.now
        progress.start { tally.line(verb: verb, total: total, parallel: parallel, since: started) }
        var reports = [Report?](repeating: nil, count: total)
        await withTaskGroup(of: (Int, Report).self) { group in
            var next = 0
            for _ in 0..<min(parallel, total) {
                let i = next
                next += 1
                group.addTask { (i, await work(i)) }
            }
            for await (i, report) in group {
                reports[i] = report
                tally.add(verdict(report))
                progress.printing { finished(i, report) }
                if next < total {
                    let i = next
                    next += 1
                    group.addTask { (i, await work(i)) }
                }
            }
        }
        progress.stop()
        return (reports.compactMap { $0 }, ContinuousClock.now - started)
    }

    /// The verdicts counted as they come, read by the progress line's timer.
    final class Tally: Sendable {
        private let counts = Mutex<[Verdict: Int]>([:])

        func add(_ v: Verdict) { counts.withLock { $0[v, default: 0] += 1 } }

        var snapshot: [Verdict: Int] { counts.withLock { $0 } }

        /// "checking 10000 servers, 1024 at a time: 4123 done (41 %), 812/s, ETA 7 s; works 4000, refused 50"
        func line(verb: String, total: Int, parallel: Int, since started: ContinuousClock.Instant) -> String {
            let counts = snapshot
            let done = counts.values.reduce(0, +)
            let seconds = (ContinuousClock.now - started) / .seconds(1)
            let rate = seconds > 0 ? Double(done) / seconds : 0
            let eta = rate > 0 ? " ETA \(Int((Double(total - done) / rate).rounded(.up))) s;" : ""
            return "\(verb) \(total) servers, \(parallel) at a time: \(done) done (\(100 * done / max(total, 1)) %), "
                + String(format: "%.0f/s,", rate) + eta + " " + Fleet.counts(counts)
        }
    }

    /// "works 4000, refused 50, timed out 3" (verdicts that occurred, best first).
    static func counts(_ counts: [Verdict: Int]) -> String {
        let parts = Verdict.allCases.compactMap { v in counts[v].map { "\(v.words) \($0)" } }
        return parts.isEmpty ? "none yet" : parts.joined(separator: ", ")
    }

    /// The closing lines under the table: the counts, the time taken and the rate.
    static func summary(_ verdicts: [Verdict], elapsed: Duration) -> String {
        let seconds = elapsed / .seconds(1)
        let counts = Dictionary(grouping: verdicts, by: { $0 }).mapValues(\.count)
        return "\(verdicts.count) servers in "
            + String(
                format: "%.1f s (%.0f a second): ",
                seconds,
                seconds > 0 ? Double(verdicts.count) / seconds : 0
            ) + Self.counts(counts)
    }
}
