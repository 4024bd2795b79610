import Dispatch
import Foundation
import ProcessPolicy
import SocksDeckEngine

/// The TUI's main loop: about ten frames a second, each drawn from fresh engine snapshots with
/// one doupdate, keys handled between frames. The network never blocks it: the engine runs on
/// its own thread and every request to it returns at once.
package final class DeckApp {
    private let controller: DeckController
    private let terminal: NcursesTerminal
    private let interrupted = SignalFlag([SIGINT, SIGTERM, SIGHUP])

    /// `colorsOff` says why colours are off ("NO_COLOR is set", "--no-color"), nil when they are on.
    package init(
        engine: SessionEngine,
        themes: ThemeLibrary,
        theme: Theme,
        banner: String?,
        colorsOff: String? = nil,
        themeMemory: ThemeMemory? = nil,
        captureDirectory: String = FileManager.default.currentDirectoryPath
    ) throws {
        terminal = try NcursesTerminal(colors: colorsOff == nil)
        controller = DeckController(
            engine: engine,
            themes: themes,
            theme: theme,
            banner: banner,
            colorsOff: colorsOff,
            themeMemory: themeMemory,
            captureDirectory: captureDirectory
        )
        terminal.apply(theme)
    }

    /// Runs until q or Ctrl-C, then closes every association, stops every forward and restores
    /// the terminal. `forwards` start as the screen comes up; one that cannot is said there.
    package func run(initialMessage: String? = nil, forwards: [ForwardLaunch] = []) async {
        if let initialMessage { controller.say(initialMessage, .accent, for: .seconds(8)) }
        controller.start(forwards)
        var appliedTheme = controller.theme.name
        var lastFrame: FrameSignature?
        loop: while !interrupted.isSet {
            controller.fit(height: terminal.height, width: terminal.width)
            await controller.refresh()
            if controller.theme.name != appliedTheme {
                terminal.apply(controller.theme)
                appliedTheme = controller.theme.name
                lastFrame = nil
            }
            // Idle costs little: a frame that would look the same is not drawn again.
            let frame = FrameSignature(controller.model, height: terminal.height, width: terminal.width)
            if frame != lastFrame {
                Screen.render(controller.model, on: terminal)
                terminal.present()
                lastFrame = frame
            }
            // Waits up to 100 ms for the first key, then takes whatever else is queued.
            var key = terminal.nextKey()
            while let k = key {
                if await !controller.handle(k) { break loop }
                key = terminal.nextKeyWithoutWaiting()
            }
        }
        controller.say(
            controller.model.runningForwardCount == 0
                ? "closing every association…" : "closing every association and stopping every forward…"
        )
        Screen.render(controller.model, on: terminal)
        terminal.present()
        await controller.engine.shutdown()
        terminal.shutdown()
    }
}

extension NcursesTerminal {
    func nextKeyWithoutWaiting() -> Key? {
        timeoutZero()
        defer { timeoutFrame() }
        return nextKey()
    }
}
