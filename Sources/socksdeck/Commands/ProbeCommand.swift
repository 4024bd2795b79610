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
            probed --parallel at a time and summed up in one table. Exit 1 when a server cannot be \
            reached at all.
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
    @Option(help: ArgumentHelp("How many servers are probed at the same time (1 to 32).", valueName: "N"))
    var parallel = 8
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
        if !(1...32).contains(parallel) { throw ValidationError("--parallel takes 1 to 32") }
        if let echo, IPEndpoint(echo) == nil { throw ValidationError("--echo '\(echo)' is not IP:port ([IPv6]:port)") }
        for (option, value, port) in [
            ("--dns", dns, WellKnownPort.dns), ("--ntp", ntp, WellKnownPort.ntp), ("--stun", stun, WellKnownPort.stun),
        ] {
            if let value, SOCKSAddress(destination: value, defaultPort: port) == nil {
                throw ValidationError("\(option) '\(value)' is not host, host:port, an IP address or [IPv6]:port")
            }
        }
    }

    struct Report: Encodable {
        var server: String
        var address: String
        var findings: [ProbeFinding]
    }

    func run() async throws {
        var names = servers
        if let serversFrom { names += try CheckCommand.readServerList(serversFrom) }
        try await options.withConfiguration(serverName: names.first) { configuration in
            let definitions = try names.map { declaration.applied(to: try options.server($0, in: configuration)) }
            let pcap = try capture.open()
            defer { pcap.finish() }
            let reports: [Report]
            if definitions.count == 1 {
                reports = [try await probeOne(definitions[0], configuration, streaming: !json, capture: pcap.mode)]
            } else {
                reports = try await probeMany(definitions, configuration, capture: pcap.mode)
            }
            if json { for r in reports { Output.json(r) } }
            if reports.contains(where: { $0.findings.contains { $0.key == .unreachable } }) {
                throw Exit.operationFailed
            }
        }
    }

    /// The checks asked for, as `check` runs them.
    private func checks() -> [ServiceCheck] {
        var out: [ServiceCheck] = []
        if let dns, let target = SOCKSAddress(destination: dns, defaultPort: WellKnownPort.dns) {
            out.append(.dns(resolver: target, name: name ?? "example.com", type: .a))
        }
        if let ntp, let target = SOCKSAddress(destination: ntp, defaultPort: WellKnownPort.ntp) {
            out.append(.ntp(server: target))
        }
        if let stun, let target = SOCKSAddress(destination: stun, defaultPort: WellKnownPort.stun) {
            out.append(.stun(server: target))
        }
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
        guard
            let endpoint = IPAddress(definition.host).map({ IPEndpoint($0, port: definition.port) })
                ?? NameResolution.resolve(definition.host, port: definition.port)
        else {
            let finding = ProbeFinding(
                key: .unreachable,
                title: "reachable",
                verdict: .no,
                value: "cannot resolve '\(definition.host)'",
                evidence: "the system resolver has no address for it"
            )
            if streaming { Self.print(finding) }
            return Report(server: definition.name, address: definition.address, findings: [finding])
        }
        var configured = CapabilityProbe(
            server: definition,
            endpoint: endpoint,
            echo: echo.flatMap(IPEndpoint.init) ?? definition.echo
        )
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
            guard let r = try? await engine.run(check, through: id) else { continue }
            out.append(
                ProbeFinding(
                    key: .check(r.check),
                    title: "\(r.check.uppercased()) through the relay",
                    verdict: r.passed ? .yes : .no,
                    value: r.summary + (r.roundTripMilliseconds.map { String(format: ", RTT %.2f ms", $0) } ?? ""),
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
        DescriptorLimit.raise(toAtLeast: 8 * parallel + 64)
        let progress = ProgressLine(enabled: !json)
        let done = Counter()
        let total = definitions.count
        progress.start { "probing \(total) servers, \(parallel) at a time: \(done.value) done" }
        var reports = [Report?](repeating: nil, count: total)
        await withTaskGroup(of: (Int, Report?).self) { group in
            var next = 0
            func launch() {
                let i = next
                next += 1
                let definition = definitions[i]
                group.addTask {
                    (i, try? await self.probeOne(definition, configuration, streaming: false, capture: capture))
                }
            }
            for _ in 0..<min(parallel, total) { launch() }
            for await (i, report) in group {
                reports[i] = report
                done.increment()
                if next < total { launch() }
            }
        }
        progress.stop()
        let all = reports.compactMap { $0 }
        if !json {
            let checks = ["dns", "ntp", "stun"].filter { name in
                all.contains { $0.findings.contains { $0.key == .check(name) } }
            }
            let columns: [ProbeFinding.Key] =
                [.udpAssociate, .bndForm, .relayEcho, .sourcePortLocking, .largestPayload] + checks.map { .check($0) }
            let header = ["SERVER", "UDP", "BND", "RELAYED", "PORT-LOCKED", "LARGEST"] + checks.map { $0.uppercased() }
            let rows = all.map { r in
                [r.server]
                    + columns.map { key in
                        guard let f = r.findings.first(where: { $0.key == key }) else {
                            return r.findings.first { $0.key == .unreachable }.map { "✘ \($0.value)" } ?? "-"
                        }
                        let mark = ["yes": "✔", "no": "✘", "info": "·", "skipped": "-"][f.verdict.rawValue]!
                        return "\(mark) " + (f.value.count > 28 ? String(f.value.prefix(27)) + "…" : f.value)
                    }
            }
            for line in TextTable.lines(header: header, rows: rows) { Output.line(line) }
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
