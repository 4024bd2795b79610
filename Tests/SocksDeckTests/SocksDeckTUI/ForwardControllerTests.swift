import Foundation
import Socks5
import SocksDeckEngine
import Testing

@testable import SocksDeckTUI

/// F, Enter and x on forwards, against a real engine: a forward only binds its local port until a
/// datagram arrives, so no proxy has to answer.
@Suite struct ForwardControllerTests {
    static func controller() -> DeckController {
        let engine = SessionEngine(
            configuration: DeckConfiguration(servers: [
                ServerDefinition(name: "lab", host: "127.0.0.1", port: 1),
                ServerDefinition(name: "other", host: "127.0.0.1", port: 2),
            ])
        )
        let themes = ThemeLibrary.load(userFolder: nil, environment: ["SOCKSDECK_THEMES": Repository.path("themes")])
        return DeckController(engine: engine, themes: themes, theme: .builtInDefault, banner: nil)
    }

    /// Refreshes until `done` holds, or 5 s pass.
    static func refresh(_ c: DeckController, until done: (DeckModel) -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            await c.refresh()
            if done(c.model) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    static func type(_ text: String, into c: DeckController) async {
        for character in text { _ = await c.handle(.character(character)) }
    }

    @Test func theFormStartsTheForwardThroughTheServerItWasOpenedOn() async throws {
        let c = Self.controller()
        let engine = c.engine
        try await withEngine(engine) { engine in
            let port = try UDPServices.freeUDPPort(hosts: ["127.0.0.1"])
            _ = await c.handle(.character("F"))
            #expect(c.model.forwardForm?.server.name == "lab")
            // The subject stays the server the form was opened on.
            c.model.selectedServer = 1
            await Self.type("\(port)", into: c)
            _ = await c.handle(.tab)
            _ = await c.handle(.control("u"))
            await Self.type("192.0.2.53:53", into: c)
            _ = await c.handle(.enter)
            #expect(c.model.mode == .browsing)
            let started = await Self.refresh(c) { $0.selectedForwardSnapshot != nil }
            let forward = try #require(c.model.selectedForwardSnapshot, "\(c.model.message?.text ?? "")")
            #expect(started && forward.serverName == "lab" && forward.local.port == port)
            #expect(forward.target == SOCKSAddress(destination: "192.0.2.53:53") && forward.isRunning)
            #expect(
                c.model.message?.text
                    == "\(forward.id): forward 127.0.0.1:\(port)=192.0.2.53:53 through lab listens (x stops it)"
            )
            #expect(c.model.focused == .servers && c.model.selectedServerDefinition == nil)

            // The same port again: refused in words on the status line and in the log, nothing else.
            c.model.selectServersPaneEntry(0)
            _ = await c.handle(.character("F"))
            await Self.type("\(port)", into: c)
            _ = await c.handle(.tab)
            await Self.type("192.0.2.53:53", into: c)
            _ = await c.handle(.enter)
            let refused = await Self.refresh(c) { $0.message?.role == .error }
            let said = c.model.message?.text ?? ""
            #expect(refused && said.contains("not started: cannot listen on 127.0.0.1:\(port)"), "\(said)")
            #expect(said.contains("EADDRINUSE"), "\(said)")
            // The engine's log says it too, so the Log pane shows it.
            let logged = await Self.refresh(c) { model in
                model.events.contains {
                    $0.level == .error && $0.message.contains("cannot listen on 127.0.0.1:\(port)")
                }
            }
            #expect(logged, "\(c.model.events.suffix(3).map(\.message))")
            #expect(c.model.forwards.filter(\.isRunning).count == 1)

            // x on the forward stops it; x again takes its row away.
            c.model.selectedForward = forward.id
            _ = await c.handle(.character("x"))
            #expect(c.model.message?.text == "stopped \(forward.id) 127.0.0.1:\(port)=192.0.2.53:53: 0 flow(s) served")
            let stopped = await Self.refresh(c) { $0.forwards.first?.isRunning == false }
            #expect(stopped && c.model.selectedForward == forward.id)
            _ = await c.handle(.character("x"))
            #expect(c.model.listedForwards.isEmpty && c.model.selectedForward == nil)
            #expect(c.model.message?.text == "removed \(forward.id) (stopped) from the list")
        }
    }

    @Test func aFormWithAWrongFieldStaysOpenAndEscCancels() async {
        let c = Self.controller()
        let engine = c.engine
        await withEngine(engine) { engine in
            _ = await c.handle(.character("F"))
            _ = await c.handle(.enter)
            let form = c.model.forwardForm
            #expect(form?.fields.problem?.field == ForwardForm.local, "the port is missing")
            #expect(c.model.message?.text.hasPrefix("local address: LOCAL '127.0.0.1:' is not an IP address") == true)
            _ = await c.handle(.escape)
            #expect(c.model.mode == .browsing && c.model.forwards.isEmpty)
        }
    }

    @Test func forwardsTheUIStartsWithAreListedAndTheKeysSayWhereTheyWork() async throws {
        let c = Self.controller()
        let engine = c.engine
        try await withEngine(engine) { engine in
            let port = try UDPServices.freeUDPPort(hosts: ["127.0.0.1"])
            let spec = try ForwardSpec(parsing: "127.0.0.1:\(port)=192.0.2.53:53")
            c.start([ForwardLaunch(spec: spec, server: c.model.servers[1])])
            #expect(await Self.refresh(c) { $0.listedForwards.count == 1 })
            #expect(c.model.listedForwards.first?.serverName == "other" && c.model.message == nil, "started quietly")
            // x on a server's row: where x does what.
            _ = await c.handle(.character("x"))
            #expect(c.model.message?.text.hasPrefix("x stops the forward selected here") == true)
            // F in the Associations pane: it works in the Servers pane.
            _ = await c.handle(.tab)
            _ = await c.handle(.character("F"))
            #expect(c.model.message?.text.hasPrefix("F (forward a local UDP address") == true)
            #expect(c.model.message?.text.hasSuffix("works in the Servers pane: Tab moves there") == true)
            // The server keys on a forward's row say so rather than act on a server.
            _ = await c.handle(.backTab)
            _ = await c.handle(.end)
            _ = await c.handle(.character("P"))
            #expect(c.model.message?.text.hasPrefix("f1 is selected: the server keys work on a server's row") == true)
        }
    }
}
