import ArgumentParser
import Foundation
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
            """)

    @OptionGroup var options: ConfigurationOptions
    @Option(help: ArgumentHelp("The colour theme (t cycles them).", valueName: "NAME")) var theme: String?

    func run() async throws {
        let userThemes = (DeckConfiguration.defaultPath() as NSString).deletingLastPathComponent + "/themes"
        let library = ThemeLibrary.load(userFolder: userThemes)
        var chosen = Theme.builtInDefault
        if let theme {
            guard let t = library.theme(named: theme) else {
                Output.error("no theme named '\(theme)' (themes: \(library.themes.map(\.name).joined(separator: ", ")))")
                throw Exit.usage
            }
            chosen = t
        } else if ProcessInfo.processInfo.environment["NO_COLOR"].map({ !$0.isEmpty }) ?? false {
            chosen = .monochrome
        } else if let dark = library.theme(named: "dark") {
            chosen = dark
        }
        let (configuration, demo) = try await options.prepare(serverName: nil)
        let engine = SessionEngine(configuration: configuration)
        let problems = library.problems.map(\.description)
        var opening = demo == nil ? nil : "Demo: SocksDeck's own relays on loopback. Enter opens an association; ? shows the keys."
        if let first = problems.first { opening = "theme file not used: \(first)" }
        do {
            let app = try DeckApp(engine: engine, themes: library, theme: chosen, banner: demo == nil ? configuration.path : "built-in demo")
            await app.run(initialMessage: opening)
        } catch {
            Output.error("\(error)")
            await engine.shutdown()
            await demo?.stop()
            throw Exit.usage
        }
        await demo?.stop()
        problems.forEach { Output.warning("theme file not used: \($0)") }
    }
}
