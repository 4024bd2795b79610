import ArgumentParser
import Foundation
import Socks5
import SocksDeckEngine
import UDPChecks

struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Report what a SOCKS5 server does with UDP: methods, commands, BND form, relay quirks.",
        discussion: """
            Each line is a finding with the evidence behind it. The relay checks (echo, source-port \
            locking, fragments, the largest payload, whether the relay outlives its control \
            connection) need a UDP echo target: --echo, or the server's configured echo; without \
            one, --dns, --ntp and --stun judge the data plane with real services (as `check` does). \
            Bounded: every wait is at most 1.5 s and the payload search at most 17 tries (about 30 s \
            at worst); a few dozen datagrams, never a flood. Several servers (or --servers-from) are \
            probed --parallel at a time (a progress line on a terminal, JSON lines as they finish) and \
            summed up in one table sorted by verdict. Exit 1 when a server cannot be reached, refuses \
            or times out, 3 when it associates but carries no data.
            """
    )

    @OptionGroup var options: ConfigurationOptions
    @OptionGroup var declaration: DeclareOption
    @OptionGroup var capture: CaptureOptions
    @Argument(help: "Configured server names, or host:port / socks5://[user@]host:port; several are probed at once.")
    var servers: [String] = []
    @Option(
        name: .customLong("servers-from"),
        help: ArgumentHelp(
            "Servers to probe, one socks5://[user[:pass]@]host:port a line; - for stdin.",
            valueName: "FILE"
        )
    )
    var serversFrom: String?
    @Option(
        help: ArgumentHelp(
            "How many servers are probed at the same time (1 to 1024; by default as many as the list and the "
                + "descriptor limit allow).",
            valueName: "N"
        )
    )
    var parallel: Int?
    @Option(help: ArgumentHelp("A UDP echo target for the relay checks.", valueName: "HOST:PORT")) var echo: String?
    @Option(help: ArgumentHelp("Also query this DNS resolver through the relay.", valueName: "HOST[:PORT]")) var dns:
        String?
    @Option(help: ArgumentHelp("The name the DNS check asks for.", valueName: "NAME")) var name: String?
    @Option(help: ArgumentHelp("Also ask this NTP server the time through the relay.", valueName: "HOST[:PORT]"))
    var ntp: String?
    @Option(help: ArgumentHelp("Also ask this STUN server for the relay's address.", valueName: "HOST[:PORT]"))
    var stun: String?
    @Flag(help: "One JSON object per server: {\"server\": ..., \"findings\": [...]}.") var json = false

    func validate() throws {
        if servers.isEmpty && serversFrom == nil {
            throw ValidationError("name a server (or several, or --servers-from FILE)")
        }
        if let parallel, !(1...Fleet.maximumParallel).contains(parallel) {
            throw ValidationError("--parallel takes 1 to \(Fleet.maximumParallel)")
        }
        if let echo, IPEndpoint(echo) == nil { throw ValidationError("--echo '\(echo)' is not IP:port ([IPv6]:port)") }
        for (kind, value) in [(CheckKind.dns, dns), (.ntp, ntp), (.stun, stun)] {
            if let value, kind.target(value) == nil {
                throw ValidationError("--\(kind) '\(value)' is not host, host:port, an IP address or [IPv6]:port")
            }
        }
    }

    struct Report: Encodable {
        var server: String
        var address: String
        var findings: [ProbeFinding]

        enum CodingKeys: String, CodingKey { case server, address, findings, verdict }

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(server, forKey: .server)
            try c.encode(address, forKey: .address)
            try c.encode(findings, forKey: .findings)
            try c.encode(verdict.key, forKey: .verdict)
        }

        /// The proxy in one word, from the findings that matter for a list: could it be reached,
        /// did it grant UDP ASSOCIATE, did data come back through the relay.
        var verdict: Fleet.Verdict {
            func finding(_ key: ProbeFinding.Key) -> ProbeFinding? { findings.first { $0.key == key } }
            if let unreachable = finding(.unreachable) {
                return unreachable.value.contains("ETIMEDOUT") ? .timedOut : .unreachable
            }
            guard finding(.udpAssociate)?.verdict == .yes else { return .refused }
            let checks = findings.filter { $0.key.rawValue.hasPrefix("check_") }
            switch finding(.relayEcho)?.verdict {
            case .no?: return .noData
            case .yes?: return checks.allSatisfy { $0.verdict == .yes } ? .works : .partly
            default:
                if checks.isEmpty { return .untested }
                if checks.allSatisfy({ $0.verdict == .yes }) { return .works }
                return checks.contains { $0.verdict == .yes } ? .partly : .noData
            }
        }
    }

    func run() async throws {
        let entries = try Fleet.entries(arguments: servers, file: serversFrom)
        try await options.withConfiguration(serverName: entries.first?.text) { configuration in
            let definitions = try Fleet.servers(entries, options: options, in: configuration)
                .map(declaration.applied)
            let pcap = try capture.open()
            defer { pcap.finish() }
            let reports: [Report]
            if definitions.count == 1 {
                reports = [try await probeOne(definitions[0], configuration, streaming: !json, capture: pcap.mode)]
                if json { Output.json(reports[0]) }
                if reports[0].findings.contains(where: { $0.key == .unreachable }) { throw Exit.operationFailed }
                return
            }
            reports = try await probeMany(definitions, configuration, capture: pcap.mode)
            if let worst = reports.map(\.verdict).max(), let code = worst.exitCode { throw code }
        }
    }

    /// The checks asked for, as `check` runs them.
    private func checks() -> [ServiceCheck] {
        var out: [ServiceCheck] = []
        if let target = dns.flatMap(CheckKind.dns.target) {
            out.append(.dns(resolver: target, name: name ?? "example.com", type: .a))
        }
        if let target = ntp.flatMap(CheckKind.ntp.target) { out.append(.ntp(server: target)) }
        if let target = stun.flatMap(CheckKind.stun.target) { out.append(.stun(server: target)) }
        return out
    }

    /// One server: the capability probe on an engine's loop, then the protocol checks through an
    /// association of the same engine; each finding printed as it comes when `streaming`.
    private func probeOne(
        _ definition: ServerDefinition,
        _ configuration: DeckConfiguration,
        streaming: Bool,
        capture: CaptureMode
    ) async throws
        -> Report
    {
        let resolved: ResolvedServer
        do {
            resolved = try await SessionEngine.resolve(definition)
        } catch {
            let unresolvable = if case .unresolvable = error { true } else { false }
            let finding = ProbeFinding(
                key: .unreachable,
                title: "reachable",
                verdict: .no,
                value: unresolvable ? "cannot resolve '\(definition.host)'" : error.description,
                evidence: unresolvable ? "the system resolver has no address for it" : ""
            )
            if streaming { Self.print(finding) }
            return Report(server: definition.name, address: definition.address, findings: [finding])
        }
        let endpoint = resolved.endpoint
        var configured = CapabilityProbe(resolved, echo: echo.flatMap(IPEndpoint.init) ?? definition.echo)
        if case .file(let file) = capture { configured.capture = ProbeCapture(sink: file) }
        let probe = configured
        if streaming {
            Output.line("probe of \(definition.name) (\(endpoint))\(probe.echo.map { ", echo target \($0)" } ?? "")")
        }
        // On a terminal a progress line says the probe is still at work (up to ~30 s).
        let progress = ProgressLine(enabled: streaming)
        let count = Counter()
        let started = Date()
        progress.start {
            "probing \(definition.name): \(count.value) findings, \(Int(Date().timeIntervalSince(started))) s"
        }
        let engine = SessionEngine(configuration: configuration, capture: capture)
        var findings =
            (try? await engine.run(probe) { f in
                count.increment()
                guard streaming else { return }
                progress.printing { Self.print(f) }
            }) ?? []
        let planned = checks()
        if !planned.isEmpty && !findings.contains(where: { $0.key == .unreachable }) {
            for f in await Self.checkFindings(definition, planned, engine: engine) {
                findings.append(f)
                if streaming { progress.printing { Self.print(f) } }
            }
        }
        progress.stop()
        await engine.shutdown()
        return Report(server: definition.name, address: endpoint.description, findings: findings)
    }

    /// The protocol checks as findings: the data plane judged with real services, no echo needed.
    static func checkFindings(
        _ definition: ServerDefinition,
        _ planned: [ServiceCheck],
        engine: SessionEngine
    ) async -> [ProbeFinding] {
        guard let id = try? await engine.open(server: definition),
            await engine.waitUntilSettled(id, timeout: .seconds(15))?.state == .associated
        else {
            return [
                ProbeFinding(
                    key: .checks,
                    title: "checks with real services",
                    verdict: .skipped,
                    value: "no association",
                    evidence: "the checks need a UDP association"
                )
            ]
        }
        var out: [ProbeFinding] = []
        for check in planned {
            let r: CheckResult
            do { r = try await engine.run(check, through: id) } catch {
                // The association ended under the check, or its target was refused: said, not dropped.
                out.append(
                    ProbeFinding(
                        key: .check(check.kind),
                        title: "\(check.kind.rawValue.uppercased()) through the relay",
                        verdict: .no,
                        value: "the check could not run: \(error)",
                        evidence: "to \(check.target)"
                    )
                )
                continue
            }
            out.append(
                ProbeFinding(
                    key: .check(r.check),
                    title: "\(r.check.rawValue.uppercased()) through the relay",
                    verdict: r.passed ? .yes : .no,
                    value: r.summary + (r.roundTrip.map { String(format: ", RTT %.2f ms", $0.milliseconds) } ?? ""),
                    evidence: r.evidence.joined(separator: "; ")
                )
            )
        }
        await engine.close(id)
        return out
    }

    /// Several servers, `--parallel` at a time, then one table of the findings that matter.
    private func probeMany(
        _ definitions: [ServerDefinition],
        _ configuration: DeckConfiguration,
        capture: CaptureMode
    ) async throws -> [Report] {
        // The probe holds several connections and sockets at once (its commands, its relay tests).
        let parallel = Fleet.parallelism(asked: self.parallel, servers: definitions.count, perServer: 8)
        let json = self.json
        let (reports, elapsed) = await Fleet.run(
            count: definitions.count,
            parallel: parallel,
            verb: "probing",
            work: { i in
                (try? await self.probeOne(definitions[i], configuration, streaming: false, capture: capture))
                    ?? Report(server: definitions[i].name, address: definitions[i].address, findings: [])
            },
            verdict: \.verdict,
            finished: { _, report in if json { Output.json(report) } }
        )
        let all = reports.sorted { $0.verdict < $1.verdict }
        if !json {
            let checks = [CheckKind.dns, .ntp, .stun].filter { kind in
                all.contains { $0.findings.contains { $0.key == .check(kind) } }
            }
            let columns: [ProbeFinding.Key] =
                [.udpAssociate, .bndForm, .relayEcho, .sourcePortLocking, .largestPayload] + checks.map { .check($0) }
            let header =
                ["SERVER", "VERDICT", "UDP", "BND", "RELAYED", "PORT-LOCKED", "LARGEST"]
                + checks.map { $0.rawValue.uppercased() }
            let rows = all.map { r in
                [r.server, r.verdict.words]
                    + columns.map { key in
                        guard let f = r.findings.first(where: { $0.key == key }) else {
                            return r.findings.first { $0.key == .unreachable }.map { "✘ \($0.value)" } ?? "-"
                        }
                        let mark = ["yes": "✔", "no": "✘", "info": "·", "skipped": "-"][f.verdict.rawValue]!
                        return "\(mark) " + (f.value.count > 28 ? String(f.value.prefix(27)) + "…" : f.value)
                    }
            }
            for line in TextTable.lines(header: header, rows: rows) { Output.line(line) }
            Output.line(Fleet.summary(all.map(\.verdict), elapsed: elapsed))
        }
        return all
    }

    /// Titles are padded to one width known in advance (findings print as they come).
    static let titleWidth = 48

    static func print(_ f: ProbeFinding) {
        let mark = ["yes": "✔", "no": "✘", "info": "·", "skipped": "-"][f.verdict.rawValue]!
        Output.line("\(mark) \(f.title.padding(titleWidth))  \(f.value)")
        Output.line("  \(String(repeating: " ", count: titleWidth))  \(f.evidence)")
    }

    /// How many findings so far, read by the progress line's timer.
    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        var value: Int { lock.withLock { count } }
        func increment() { lock.withLock { count += 1 } }
    }
}
