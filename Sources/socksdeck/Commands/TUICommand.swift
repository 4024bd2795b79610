import ArgumentParser
import Foundation
import ProcessPolicy
import SocksDeckEngine
import SocksDeckTUI

struct TUICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ui",
        abstract: "The terminal UI (what `socksdeck` alone starts).",
        discussion: """
            Live panes: servers, associations, the selected association's detail, the log. Press ? \
            for the keys. Needs a UTF-8 terminal (it falls back to C.UTF-8 when the locale is not \
            UTF-8). Honours NO_COLOR. With no configuration file it runs on the built-in demo.
            Themes: themes/*.toml shipped with SocksDeck, and your own in the configuration \
            folder's themes/ (a name clash goes to yours).
            Forwards: each LOCAL=TARGET (as socksdeck forward takes them) starts with the UI, through \
            --forward-server (default: the first server), beside the configuration's [[forward]] \
            tables (the demo has one); F on a server starts another, x on a forward stops it.
            """
    )

    @OptionGroup var options: ConfigurationOptions
    @Argument(help: ArgumentHelp("Forwards to start with the UI.", valueName: "LOCAL=TARGET")) var forwardSpecs:
        [String] = []
    @Option(
        name: .customLong("forward-server"),
        help: ArgumentHelp(
            "The server the LOCAL=TARGET forwards go through: a configured name or an address (default: the first "
                + "server).",
            valueName: "NAME"
        )
    )
    var forwardServer: String?
    @Option(help: ArgumentHelp("The colour theme (t cycles them).", valueName: "NAME")) var theme: String?
    @Option(
        name: .customLong("open"),
        help: ArgumentHelp(
            "Open this many associations through the first server before the UI starts: to watch a load, or "
                + "many sessions at once (1 to 5000).",
            valueName: "COUNT"
        )
    )
    var openCount: Int?
    @Flag(help: "Probe each association opened with --open every second (the server needs an echo target).")
    var probeOpened = false
    @Flag(name: .customLong("no-color"), help: "No colours, attributes only (as NO_COLOR does).") var noColor = false
    @Option(
        name: .customLong("capture-ring"),
        help: ArgumentHelp(
            "Kilobytes of datagrams each association keeps for w (its handshake is always kept); 0: no capture. "
                + "Default 256, or 0 with --open.",
            valueName: "KB"
        )
    )
    var captureRingOption: Int?
    @Option(
        name: .customLong("capture-dir"),
        help: ArgumentHelp("Where w writes captures (default: the current directory).", valueName: "DIR")
    )
    var captureDirectory: String?

    /// A load test (--open) captures nothing unless asked: a thousand rings would be most of its memory.
    private var captureRing: Int { captureRingOption ?? (openCount == nil ? 256 : 0) }

    func validate() throws {
        if let n = openCount, !(1...5000).contains(n) {
            throw ValidationError("--open takes a count from 1 to 5000, not \(n)")
        }
        if let kb = captureRingOption, !(0...1_048_576).contains(kb) {
            throw ValidationError("--capture-ring takes 0 to 1048576 KB")
        }
        if let captureDirectory {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: captureDirectory, isDirectory: &isDirectory),
                isDirectory.boolValue
            else { throw ValidationError("--capture-dir '\(captureDirectory)' is not a directory") }
        }
        if probeOpened && openCount == nil {
            throw ValidationError("--probe-opened probes the associations --open opens: give --open COUNT")
        }
        for text in forwardSpecs {
            do { _ = try ForwardSpec(parsing: text) } catch { throw ValidationError("LOCAL=TARGET \(error)") }
        }
        if forwardServer != nil && forwardSpecs.isEmpty {
            throw ValidationError("--forward-server is the server for LOCAL=TARGET forwards: give at least one")
        }
    }

    func run() async throws {
        let configurationFolder = (DeckConfiguration.defaultPath() as NSString).deletingLastPathComponent
        let library = ThemeLibrary.load(userFolder: configurationFolder + "/themes")
        let memory = ThemeMemory(folder: configurationFolder)
        let noColorVariable = ProcessInfo.processInfo.environment["NO_COLOR"].map { !$0.isEmpty } ?? false
        let colorsOff = noColor ? "--no-color" : noColorVariable ? "NO_COLOR is set" : nil
        var chosen = Theme.builtInDefault
        if let theme {
            guard let t = library.theme(named: theme) else {
                Output.error(
                    "no theme named '\(theme)' (themes: \(library.themes.map(\.name).joined(separator: ", ")))"
                )
                throw Exit.usage
            }
            chosen = t
        } else if colorsOff != nil {
            chosen = .monochrome
        } else {
            chosen = library.startingTheme(remembered: memory.remembered)
        }
        let (configuration, demo) = try await options.prepare(serverName: nil)
        let forwards: [ForwardLaunch]
        do {
            forwards = try plannedForwards(configuration)
        } catch {
            await demo?.stop()
            throw error
        }
        let engine = SessionEngine(
            configuration: configuration,
            capture: captureRing == 0 ? .off : .ring(bytesPerAssociation: captureRing * 1024)
        )
        if let openCount {
            do {
                try await Self.openLoad(engine, configuration: configuration, count: openCount, probe: probeOpened)
            } catch {
                Output.error("\(error)")
                await engine.shutdown()
                await demo?.stop()
                throw Exit.usage
            }
        }
        let problems = library.problems.map(\.description)
        var opening =
            demo == nil
            ? nil : "Demo: SocksDeck's own relays on loopback. Enter opens an association; ? shows the keys."
        if let first = problems.first { opening = "theme file not used: \(first)" }
        do {
            let app = try DeckApp(
                engine: engine,
                themes: library,
                theme: chosen,
                banner: demo == nil ? configuration.path : "built-in demo",
                colorsOff: colorsOff,
                themeMemory: memory,
                captureDirectory: captureDirectory ?? FileManager.default.currentDirectoryPath
            )
            await app.run(initialMessage: opening, forwards: forwards)
        } catch {
            Output.error("\(error)")
            await engine.shutdown()
            await demo?.stop()
            throw Exit.usage
        }
        await demo?.stop()
        for problem in problems { Output.warning("theme file not used: \(problem)") }
    }

    /// The forwards to start with the UI: the configuration's [[forward]] tables (the demo's
    /// one), then those of the command line through --forward-server or the first server.
    private func plannedForwards(_ configuration: DeckConfiguration) throws -> [ForwardLaunch] {
        var launches: [ForwardLaunch] = []
        for entry in configuration.forwards {
            // The configuration was checked when it loaded: each forward names one of its servers.
            guard let server = configuration.server(named: entry.server) else { continue }
            var forwardOptions = ForwardOptions()
            if let idle = entry.idleTimeout { forwardOptions.idleTimeout = idle }
            if let flows = entry.maximumFlows { forwardOptions.maximumFlows = flows }
            launches.append(ForwardLaunch(spec: entry.spec, server: server, options: forwardOptions))
        }
        guard !forwardSpecs.isEmpty else { return launches }
        let server: ServerDefinition
        if let forwardServer {
            server = try options.server(forwardServer, in: configuration)
        } else if let first = configuration.servers.first {
            server = first
        } else {
            Output.error("LOCAL=TARGET needs a server: give --forward-server NAME (no server is configured)")
            throw Exit.usage
        }
        // Read in validate() already.
        return launches
            + forwardSpecs.compactMap { try? ForwardSpec(parsing: $0) }.map {
                ForwardLaunch(spec: $0, server: server)
            }
    }

    /// Opens `count` associations through the first server, and probes them when asked.
    static func openLoad(
        _ engine: SessionEngine,
        configuration: DeckConfiguration,
        count: Int,
        probe: Bool
    ) async throws {
        guard let server = configuration.servers.first else {
            throw ValidationError("--open needs a server in the configuration")
        }
        if probe && server.echo == nil {
            throw ValidationError("--probe-opened: server '\(server.name)' has no echo target")
        }
        DescriptorLimit.raise(toAtLeast: 2 * count + 64)
        for id in try await engine.open(server: server, count: count) where probe {
            if await engine.snapshot(id)?.state == .associated { try await engine.startProbe(id) }
        }
    }
}
