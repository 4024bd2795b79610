import ArgumentParser
import Foundation
import ProcessPolicy
import Socks5
import SocksDeckEngine

struct ForwardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract: "Put an application's UDP through a proxy: LOCAL=TARGET, as ssh -L does for TCP.",
        discussion: """
            Each LOCAL=TARGET listens on the UDP address LOCAL (an IP literal: 127.0.0.1:5353, \
            [::1]:5353) and sends what arrives there through SERVER to TARGET (host:port or \
            [IPv6]:port; a name goes to the server as a name unless --resolve). Each local client \
            (source address and port) gets its own association, opened by its first datagram and \
            closed after --idle-timeout without traffic; replies from TARGET go back to it without \
            the SOCKS header, replies from anyone else are dropped and counted. When the server \
            closes an association, the next datagram opens another; when opening fails, the next \
            attempt waits 1 s, then 2, 4… up to 30 s.

            Without SERVER, the configuration file's [[forward]] tables are started.

            Example: socksdeck forward dante 127.0.0.1:5353=192.0.2.53:53, then \
            dig @127.0.0.1 -p 5353 example.com.

            Runs until Ctrl-C (or --duration), then prints each flow's figures. Exit 64 for a \
            LOCAL=TARGET that cannot be read, 71 when LOCAL cannot be bound (in use, not this \
            machine's), 1 when the server cannot be used.
            """
    )

    @OptionGroup var options: ConfigurationOptions
    @OptionGroup var declaration: DeclareOption
    @OptionGroup var capture: CaptureOptions
    @Argument(help: "A configured server name, or host:port / socks5://[user@]host:port.") var server: String?
    @Argument(help: ArgumentHelp("What to forward.", valueName: "LOCAL=TARGET")) var forwards: [String] = []
    @Option(
        name: .customLong("idle-timeout"),
        parsing: .unconditional,
        help: ArgumentHelp("Seconds without traffic after which a flow closes (decimals allowed).", valueName: "S")
    )
    var idleTimeout: Double = 60
    @Option(
        name: .customLong("max-flows"),
        parsing: .unconditional,
        help: ArgumentHelp("Local clients served at once, per forward.", valueName: "N")
    )
    var maxFlows = 256
    @Option(parsing: .unconditional, help: ArgumentHelp("Stop after this many seconds.", valueName: "S"))
    var duration: Double?
    @Flag(help: "Resolve a TARGET host name here and send its address instead of the name.") var resolve = false
    @Flag(help: "One JSON object per line: each flow's opening, end and errors.") var json = false

    func validate() throws {
        if let server, server.contains("=") {
            throw ValidationError(
                "'\(server)' is a LOCAL=TARGET where SERVER goes: name the server first (socksdeck forward SERVER "
                    + "\(server))"
            )
        }
        if server != nil && forwards.isEmpty {
            throw ValidationError("give at least one LOCAL=TARGET after SERVER (e.g. 127.0.0.1:5353=192.0.2.53:53)")
        }
        for text in forwards {
            do { _ = try ForwardSpec(parsing: text) } catch { throw ValidationError("LOCAL=TARGET \(error)") }
        }
        if !(idleTimeout > 0 && idleTimeout <= 86_400) {
            throw ValidationError("--idle-timeout takes more than 0 and at most 86400 seconds")
        }
        if !(1...65_536).contains(maxFlows) { throw ValidationError("--max-flows takes 1 to 65536") }
        if let duration, !(duration > 0) { throw ValidationError("--duration takes a positive number of seconds") }
    }

    func run() async throws {
        try await options.withConfiguration(serverName: server, execute)
    }

    private func execute(_ configuration: DeckConfiguration) async throws {
        let planned = try plan(configuration)
        guard !planned.isEmpty else {
            Output.error(
                "nothing to forward: give SERVER LOCAL=TARGET…, or put [[forward]] tables in the configuration file"
            )
            throw Exit.usage
        }
        let stop = SignalFlag()
        // Each flow holds two descriptors (the control connection and the data socket).
        DescriptorLimit.raiseToHardLimit()
        let pcap = try capture.open()
        defer { pcap.finish() }
        let engine = SessionEngine(configuration: configuration, capture: pcap.mode)
        let json = self.json
        let report: @Sendable (ForwardEvent) -> Void = { event in Self.print(event, json: json) }
        var started: [ForwardID] = []
        for (spec, definition, forwardOptions) in planned {
            do {
                started.append(
                    try await engine.startForward(spec, through: definition, options: forwardOptions, report: report)
                )
            } catch {
                Output.error("forward \(spec): \(error)")
                await engine.shutdown()
                if case .cannotListen = error { throw Exit.cannotListen }
                throw Exit.operationFailed
            }
        }
        if let duration {
            let stopAt = ContinuousClock.now + .milliseconds(Int64(duration * 1000))
            while !stop.isSet && ContinuousClock.now < stopAt { try? await Task.sleep(for: .milliseconds(50)) }
        } else {
            await stop.wait()
        }
        for id in started { await engine.stopForward(id) }
        let snapshots = await engine.forwards()
        await engine.shutdown()
        if !json {
            for forward in snapshots { Self.printSummary(forward) }
        }
    }

    /// The forwards to start: those on the command line, or the configuration file's.
    private func plan(_ configuration: DeckConfiguration) throws -> [(ForwardSpec, ServerDefinition, ForwardOptions)] {
        let commandLineOptions = ForwardOptions(
            idleTimeout: .milliseconds(Int64((idleTimeout * 1000).rounded())),
            maximumFlows: maxFlows
        )
        if let server {
            let definition = declaration.applied(to: try options.server(server, in: configuration))
            return try forwards.map { (try resolved(ForwardSpec(parsing: $0)), definition, commandLineOptions) }
        }
        return try configuration.forwards.map { entry in
            guard let definition = configuration.server(named: entry.server) else {
                Output.error("[[forward]] \(entry.spec): no server named '\(entry.server)' is configured")
                throw Exit.configuration
            }
            var options = commandLineOptions
            if let idle = entry.idleTimeout { options.idleTimeout = idle }
            if let flows = entry.maximumFlows { options.maximumFlows = flows }
            return (try resolved(entry.spec), declaration.applied(to: definition), options)
        }
    }

    /// With --resolve, a target name becomes its address here.
    private func resolved(_ spec: ForwardSpec) throws -> ForwardSpec {
        resolve ? ForwardSpec(local: spec.local, target: try resolvedHere(spec.target)) : spec
    }
}
