import ArgumentParser
import Dispatch
import Foundation
import NIOPosix
import ProcessPolicy
import Socks5
import Socks5NIO
import SocksDeckEngine

struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Keep associations open with health probes, headless, with Prometheus metrics.",
        discussion: """
            One association per server (all configured servers when none is named), each with a \
            probe to the echo target every --interval; a dead association is opened again, backing \
            off from 1 s to 30 s. Prints one line (or JSON object) per event and per interval. \
            --metrics serves Prometheus text on GET /metrics, and GET /healthz answers 200 while \
            every watched association is associated (503 and the ones that are not otherwise); a \
            non-loopback metrics address needs --allow-remote. Ends after --duration, or on Ctrl-C \
            or SIGTERM.
            """
    )

    @OptionGroup var options: ConfigurationOptions
    @OptionGroup var declaration: DeclareOption
    @OptionGroup var capture: CaptureOptions
    @Argument(help: "Servers to watch (default: every configured one).") var servers: [String] = []
    @Option(help: ArgumentHelp("The UDP echo target for probes (default: each server's own).", valueName: "HOST:PORT"))
    var echo: String?
    @Option(help: ArgumentHelp("Milliseconds between probes and between reports.", valueName: "MS")) var interval = 1000
    @Option(help: ArgumentHelp("Stop after this many seconds.", valueName: "S")) var duration: Double?
    @Option(help: ArgumentHelp("Serve Prometheus metrics here (GET /metrics).", valueName: "HOST:PORT")) var metrics:
        String?
    @Option(
        help: ArgumentHelp(
            "A protocol check instead of the echo probe as the health signal: the association is healthy while "
                + "the service answers through it (targets: each server's dns/ntp/stun, or --check-target).",
            valueName: "dns|ntp|stun"
        )
    )
    var check: String?
    @Option(
        name: .customLong("check-target"),
        help: ArgumentHelp("Where --check goes, for every server watched.", valueName: "HOST[:PORT]")
    )
    var checkTarget: String?
    @Option(help: ArgumentHelp("The name --check dns asks for.", valueName: "NAME")) var name = "example.com"
    @Flag(name: .customLong("allow-remote"), help: "Allow serving metrics on a non-loopback address.")
    var allowRemote = false
    @OptionGroup var rotation: CaptureRotationOptions
    @Flag(help: "One JSON object per line.") var json = false

    func validate() throws {
        if let echo, IPEndpoint(echo) == nil { throw ValidationError("--echo '\(echo)' is not IP:port ([IPv6]:port)") }
        if let metrics {
            guard let address = IPEndpoint(metrics) else {
                throw ValidationError("--metrics '\(metrics)' is not IP:port ([IPv6]:port)")
            }
            if !address.address.isLoopback && !allowRemote {
                throw ValidationError(
                    "--metrics \(address) is not a loopback address: anyone who reaches it reads the servers' "
                        + "names and addresses; add --allow-remote to serve there"
                )
            }
        }
        if check != nil && checkKind == nil {
            throw ValidationError("--check takes dns, ntp or stun (the NAT test is not a health signal: check --nat)")
        }
        if let checkTarget, (checkKind ?? .dns).target(checkTarget) == nil {
            throw ValidationError(
                "--check-target '\(checkTarget)' is not host, host:port, an IP address or [IPv6]:port"
            )
        }
        if !(50...600_000).contains(interval) { throw ValidationError("--interval takes 50 to 600000 ms") }
        if let duration, duration <= 0 { throw ValidationError("--duration takes a positive number of seconds") }
    }

    func run() async throws {
        try await options.withConfiguration(serverName: servers.first) { configuration in
            let named = try servers.map { try options.server($0, in: configuration) }
            let definitions = (servers.isEmpty ? configuration.servers : named).map(declaration.applied(to:))
            guard !definitions.isEmpty else {
                Output.error("no servers to watch: name some, or configure them")
                throw Exit.usage
            }
            // Installed before anything starts, so that a SIGTERM at any moment ends it cleanly.
            let stop = SignalFlag()
            let pcap = try rotation.open(capture)
            defer { pcap.finish() }
            let engine = SessionEngine(configuration: configuration, capture: pcap.mode)
            let checks = try definitions.map { try serviceCheck(for: $0) }
            let watcher = AssociationWatcher(
                engine: engine,
                servers: definitions,
                echo: echo.flatMap(IPEndpoint.init),
                probeInterval: .milliseconds(interval),
                checks: checks
            )
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            var server: MetricsServer?
            if let metrics, let address = IPEndpoint(metrics) {
                do {
                    server = try await MetricsServer.start(on: address, group: group, watcher: watcher)
                    if !json { Output.line("metrics on http://\(server!.listening)/metrics") }
                } catch {
                    Output.error("cannot listen on \(address) for metrics: \(NIOErrorNumber.describe(error))")
                    try? await group.shutdownGracefully()
                    await engine.shutdown()
                    throw Exit.operationFailed
                }
            }
            let end = duration.map { Date().addingTimeInterval($0) }
            var lastSummary = Date.distantPast
            while !stop.isSet, end.map({ Date() < $0 }) ?? true {
                let summary = Date().timeIntervalSince(lastSummary) * 1000 >= Double(interval)
                if summary { lastSummary = Date() }
                for event in await watcher.tick(summary: summary) { report(event) }
                try? await Task.sleep(for: .milliseconds(50))
            }
            await server?.stop()
            try? await group.shutdownGracefully()
            await engine.shutdown()
        }
    }

    /// The health signals --check takes (the NAT test is one run, not a signal).
    private var checkKind: CheckKind? {
        check.flatMap(CheckKind.init(rawValue:)).flatMap { [.dns, .ntp, .stun].contains($0) ? $0 : nil }
    }

    /// The --check for one server: its own target for that kind, unless --check-target.
    private func serviceCheck(for server: ServerDefinition) throws -> ServiceCheck? {
        guard let kind = checkKind else { return nil }
        guard let target = checkTarget.flatMap(kind.target) ?? server.checkTargets[kind] else {
            Output.error(
                "server '\(server.name)' has no \(kind) target: set \(kind) = \"HOST[:PORT]\" for it, "
                    + "or give --check-target"
            )
            throw Exit.usage
        }
        switch kind {
        case .dns: return .dns(resolver: target, name: name, type: .a)
        case .ntp: return .ntp(server: target)
        default: return .stun(server: target)
        }
    }

    private func report(_ event: WatchEvent) {
        let e = WatchEventJSON(event)
        if json {
            Output.json(e)
            return
        }
        var line = "\(Timestamp.iso8601(e.time)) \(e.server) \(e.event)"
        if let a = e.association { line += " #\(a)" }
        if let r = e.rendezvous { line += " rendezvous \(r)" }
        if let r = e.reason { line += ": \(r)" }
        if e.event == "interval" {
            line +=
                " \(e.state ?? "?") sent \(e.datagramsSent ?? 0) received \(e.datagramsReceived ?? 0) lost "
                + "\(e.probesLost ?? 0)"
            if let rtt = e.rttP50Ms { line += String(format: " rtt p50 %.2f ms", rtt) }
            line += " reconnects \(e.reconnects ?? 0)"
            if let answered = e.checkAnswered {
                line += " check answered \(answered) lost \(e.checkLost ?? 0)"
                if let rtt = e.checkRttMs { line += String(format: " rtt %.2f ms", rtt) }
                if let failure = e.checkFailure { line += " (failing: \(failure))" }
            }
        }
        Output.line(line)
    }
}
