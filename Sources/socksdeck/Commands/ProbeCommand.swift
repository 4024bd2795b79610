import ArgumentParser
import Foundation
import Socks5
import SocksDeckEngine

struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Report what a SOCKS5 server does with UDP: methods, commands, BND form, relay quirks.",
        discussion: """
            Each line is a finding with the evidence behind it. The relay checks (echo, source-port \
            locking, fragments, the largest payload, whether the relay outlives its control \
            connection) need a UDP echo target: --echo, or the server's configured echo. Bounded: \
            every wait is at most 1.5 s and the payload search at most 17 tries (about 30 s at worst); \
            a few dozen datagrams, never a flood. Exit 1 when the server cannot be reached at all.
            """
    )

    @OptionGroup var options: ConfigurationOptions
    @OptionGroup var declaration: DeclareOption
    @Argument(help: "A configured server name, or host:port / socks5://[user@]host:port.") var server: String
    @Option(help: ArgumentHelp("A UDP echo target for the relay checks.", valueName: "HOST:PORT")) var echo: String?
    @Flag(help: "One JSON object: {\"server\": ..., \"findings\": [...]}.") var json = false

    func validate() throws {
        if let echo, IPEndpoint(echo) == nil { throw ValidationError("--echo '\(echo)' is not IP:port ([IPv6]:port)") }
    }

    func run() async throws {
        try await options.withConfiguration(serverName: server) { configuration in
            let definition = declaration.applied(to: try options.server(server, in: configuration))
            guard
                let endpoint = IPAddress(definition.host).map({ IPEndpoint($0, port: definition.port) })
                    ?? NameResolution.resolve(definition.host, port: definition.port)
            else {
                Output.error("cannot resolve '\(definition.host)'")
                throw Exit.operationFailed
            }
            let probe = CapabilityProbe(
                server: definition,
                endpoint: endpoint,
                echo: echo.flatMap(IPEndpoint.init) ?? definition.echo
            )
            if !json {
                Output.line(
                    "probe of \(definition.name) (\(endpoint))\(probe.echo.map { ", echo target \($0)" } ?? "")"
                )
            }
            // Each finding is printed as soon as it is established; on a terminal a progress line
            // says the probe is still at work (the relay checks take up to ~30 s).
            let progress = ProgressLine(enabled: !json)
            let count = Counter()
            let started = Date()
            progress.start {
                "probing \(definition.name): \(count.value) findings, \(Int(Date().timeIntervalSince(started))) s"
            }
            let printFinding = !json
            // The probe blocks on sockets: it runs on a thread of its own, off the cooperative pool.
            let findings = await withCheckedContinuation { continuation in
                Thread {
                    continuation.resume(
                        returning: probe.run { f in
                            count.increment()
                            guard printFinding else { return }
                            progress.printing { Self.print(f) }
                        }
                    )
                }.start()
            }
            progress.stop()
            if json {
                struct Report: Encodable {
                    var server: String
                    var address: String
                    var findings: [ProbeFinding]
                }
                Output.json(Report(server: definition.name, address: endpoint.description, findings: findings))
            }
            if findings.contains(where: { $0.key == "unreachable" }) { throw Exit.operationFailed }
        }
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
