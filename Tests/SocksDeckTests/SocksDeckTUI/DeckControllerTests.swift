import Foundation
import Socks5
import SocksDeckEngine
import Testing

@testable import SocksDeckTUI

/// The controller against a real engine and real servers (Dante, microsocks): what a key does
/// and what the status line then says. No terminal.
@Suite(.tags(.peers), .needsPeers) struct DeckControllerTests {
    static func controller(capture: CaptureMode = .off, captureDirectory: String = "/tmp") throws -> DeckController {
        let peers = try TestPeers.shared()
        let engine = SessionEngine(
            configuration: DeckConfiguration(servers: [
                ServerDefinition(
                    name: "dante",
                    host: "127.0.0.1",
                    port: peers.danteNoAuth.port,
                    echo: peers.echo.endpoint(.ipv4)
                ),
                ServerDefinition(name: "microsocks", host: "127.0.0.1", port: peers.microsocksPort),
            ]),
            capture: capture
        )
        let themes = ThemeLibrary.load(userFolder: nil, environment: ["SOCKSDECK_THEMES": Repository.path("themes")])
        return DeckController(
            engine: engine,
            themes: themes,
            theme: .builtInDefault,
            banner: nil,
            captureDirectory: captureDirectory
        )
    }

    /// Refreshes until the status line says something other than `transient`, or 5 s pass.
    static func statusAfter(_ transient: String, _ c: DeckController) async -> String {
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            await c.refresh()
            if let text = c.model.message?.text, !text.hasPrefix(transient) { return text }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return c.model.message?.text ?? ""
    }

    @Test func theStatusLineSaysHowAnOpenSettledNotThatItIsOpening() async throws {
        let c = try Self.controller()
        let engine = c.engine
        await withEngine(engine) { engine in
            _ = await c.perform(.open)
            // Dante on loopback may have answered already (perform refreshes once): either words are true.
            let first = c.model.message?.text ?? ""
            #expect(
                first.hasPrefix("opening #1 through dante") || first.hasPrefix("#1 associated through dante"),
                "\(first)"
            )
            let up = await Self.statusAfter("opening", c)
            #expect(up.hasPrefix("#1 associated through dante: rendezvous 127.0.0.1:"), "\(up)")
            _ = await c.handle(.backTab)
            #expect(c.model.focused == .servers)
            _ = await c.handle(.down)
            _ = await c.perform(.open)
            let refused = await Self.statusAfter("opening", c)
            #expect(refused.hasPrefix("#2 through microsocks failed: S5_EOPNOTSUPP"), "\(refused)")
        }
    }

    @Test func xRemovesAnEndedAssociationAndCapitalXEveryEndedOne() async throws {
        let c = try Self.controller()
        let engine = c.engine
        try await withEngine(engine) { engine in
            let dante = try #require(c.model.servers.first)
            let microsocks = try #require(c.model.servers.last)
            let live = try await c.engine.open(server: dante)
            let failed = [try await c.engine.open(server: microsocks), try await c.engine.open(server: microsocks)]
            for id in [live] + failed { _ = await c.engine.waitUntilSettled(id, timeout: .seconds(5)) }
            await c.refresh()
            _ = await c.handle(.tab)
            #expect(c.model.focused == .associations)
            let row = try #require(c.model.visibleAssociations.firstIndex { $0.id == failed[0] })
            _ = await c.handle(.home)
            for _ in 0..<row { _ = await c.handle(.down) }
            _ = await c.handle(.character("x"))
            #expect(c.model.message?.text == "removed #\(failed[0].value) (failed) from the list")
            #expect(c.model.associations.map(\.id) == [live, failed[1]])
            // x on a live one closes it; it stays, closed, until removed.
            _ = await c.handle(.home)
            _ = await c.handle(.character("x"))
            #expect(c.model.message?.text == "closed #\(live.value)")
            _ = await c.handle(.character("X"))
            #expect(c.model.message?.text == "removed 2 ended associations")
            #expect(c.model.associations.isEmpty)
            _ = await c.handle(.character("X"))
            #expect(c.model.message?.text == "no ended associations to remove")
        }
    }

    /// w writes the selected association's capture so far, and says where; tshark reads it.
    @Test func wWritesTheSelectedAssociationsCaptureAndSaysWhere() async throws {
        let directory = try makeTemporaryDirectory("tui-capture")
        let c = try Self.controller(capture: .ring(bytesPerAssociation: 65_536), captureDirectory: directory)
        let engine = c.engine
        try await withEngine(engine) { engine in
            _ = await c.handle(.character("w"))
            #expect(c.model.message?.text.contains("works in the Associations pane") == true)
            let dante = try #require(c.model.servers.first)
            let id = try await engine.open(server: dante)
            _ = await engine.waitUntilSettled(id, timeout: .seconds(5))
            try await engine.send(id, to: .ip(dante.echo!), payload: Array("seen by w".utf8))
            _ = await SessionEngineTests.eventually(engine, id) { $0.counters.datagramsReceived == 1 }
            await c.refresh()
            _ = await c.handle(.tab)
            _ = await c.handle(.character("w"))
            let said = c.model.message?.text ?? ""
            let files = try FileManager.default.contentsOfDirectory(atPath: directory)
            #expect(files.count == 1)
            let file = try #require(files.first)
            #expect(file.hasPrefix("socksdeck-dante-\(id.value)-") && file.hasSuffix(".pcapng"))
            #expect(said.hasPrefix("#\(id.value): ") && said.hasSuffix("→ \(directory)/\(file)"), "\(said)")
            let frames = try Tshark.frames(
                directory + "/" + file,
                options: ["-d", "tcp.port==\(dante.port),socks"],
                fields: ["socks.command", "data.data"]
            )
            #expect(frames.contains { $0["socks.command"] == "3" })
            #expect(frames.filter { $0["data.data"] == hex(Array("seen by w".utf8)) }.count == 4)
            #expect(said.contains(" \(frames.count) packets"))
            // Without a ring, w says how to get one.
            let off = try Self.controller()
            try await withEngine(off.engine) { offEngine in
                let other = try await offEngine.open(server: dante)
                _ = await offEngine.waitUntilSettled(other, timeout: .seconds(5))
                await off.refresh()
                _ = await off.handle(.tab)
                _ = await off.handle(.character("w"))
                #expect(off.model.message?.text.hasPrefix("captures are off") == true)
            }
        }
    }

    /// Issue 28: an association whose echo target stopped answering shows the warning colour
    /// within two probe intervals of its last answer, and LOSS once the probe counts a loss; while
    /// it answered, it showed neither.
    @Test func aLossyAssociationWarnsWithinTwoProbeIntervals() async throws {
        let peers = try TestPeers.shared()
        let echo = UDPEchoServer(lifetimeSeconds: 60)
        defer { echo.stop() }
        let engine = SessionEngine(
            configuration: DeckConfiguration(servers: [
                ServerDefinition(
                    name: "dante",
                    host: "127.0.0.1",
                    port: peers.danteNoAuth.port,
                    echo: echo.endpoint(.ipv4)
                )
            ])
        )
        let c = DeckController(
            engine: engine,
            themes: ThemeLibrary(themes: [], problems: []),
            theme: .builtInDefault,
            banner: nil
        )
        try await withEngine(engine) { engine in
            let id = try await engine.open(server: "dante")
            _ = await engine.waitUntilSettled(id, timeout: .seconds(5))
            let interval = Duration.milliseconds(500)
            try await engine.startProbe(id, interval: interval)
            func row() async -> AssociationSnapshot? {
                await c.refresh()
                return c.model.associations.first { $0.id == id }
            }
            var answered = 0
            for _ in 0..<100 where answered < 3 {
                let a = await row()
                answered = a?.probe?.answered ?? 0
                if let a { #expect(c.model.health(of: a) == .ok, "warned while answering: \(a.probe as Any)") }
                try await Task.sleep(for: .milliseconds(50))
            }
            try #require(answered >= 3, "the probe never got its echoes")
            echo.stop()
            var warned: (at: Date, lastReply: Date)?
            var lossShown: String?
            for _ in 0..<200 where warned == nil || lossShown == nil {
                guard let a = await row(), let probe = a.probe else { break }
                if warned == nil, c.model.health(of: a) == .warning, let last = probe.lastReply {
                    warned = (Date(), last)
                }
                if probe.lost > 0 { lossShown = AssociationsPane.loss(probe) }
                try await Task.sleep(for: .milliseconds(25))
            }
            let (at, lastReply) = try #require(warned, "never warned")
            // Two intervals by the rule; the rest is this loop's own pace under a sanitizer.
            #expect(
                at.timeIntervalSince(lastReply) <= 2 * 0.5 + 0.75,
                "warned \(at.timeIntervalSince(lastReply)) s after"
            )
            #expect(lossShown != nil && lossShown != "0%", "LOSS \(lossShown ?? "never shown")")
        }
    }

    @Test func aRefusedSendFormStaysOpenWithWhatWasTyped() async throws {
        let c = try Self.controller()
        let engine = c.engine
        try await withEngine(engine) { engine in
            let id = try await c.engine.open(server: try #require(c.model.servers.first))
            _ = await c.engine.waitUntilSettled(id, timeout: .seconds(5))
            await c.refresh()
            _ = await c.handle(.tab)
            _ = await c.handle(.character("s"))
            for key: Key in [.control("u")] + "nowhere".map({ .character($0) }) { _ = await c.handle(key) }
            _ = await c.handle(.enter)
            let form = try #require(c.model.form, "the form stays open")
            #expect(form.target == "nowhere" && form.problem?.field == 0)
            #expect(c.model.message?.text.contains("'nowhere' is not host:port") == true)
            for key: Key in [.control("u")] + c.model.servers[0].echo!.description.map({ .character($0) }) {
                _ = await c.handle(key)
            }
            _ = await c.handle(.enter)
            #expect(c.model.form == nil)
            let deadline = Date().addingTimeInterval(5)
            while Date() < deadline, (await c.engine.snapshot(id))?.counters.datagramsReceived != 1 {
                try? await Task.sleep(for: .milliseconds(20))
            }
            #expect(await c.engine.snapshot(id)?.counters.datagramsReceived == 1)
        }
    }

    @Test func aKeyOfAnotherPaneSaysWhereItWorks() async throws {
        let c = try Self.controller()
        let engine = c.engine
        await withEngine(engine) { engine in
            #expect(c.model.focused == .servers)
            _ = await c.handle(.character("x"))
            #expect(
                c.model.message?.text.hasPrefix("x (close the selected association") == true,
                "\(String(describing: c.model.message))"
            )
            #expect(c.model.message?.text.hasSuffix("works in the Associations pane: Tab moves there") == true)
            _ = await c.handle(.character("f"))
            #expect(c.model.message?.text == "no probe of dante yet: P probes it")
        }
    }

    /// P probes Dante on a thread; the row counts findings meanwhile; f shows every one; Esc closes.
    @Test func theProbesFindingsOpenInFull() async throws {
        let c = try Self.controller()
        let engine = c.engine
        try await withEngine(engine) { engine in
            _ = await c.handle(.character("P"))
            #expect(c.model.probesRunning["dante"] != nil)
            let deadline = Date().addingTimeInterval(40)
            while c.model.probeReports["dante"] == nil && Date() < deadline {
                await c.refresh()
                try? await Task.sleep(for: .milliseconds(50))
            }
            let findings = try #require(c.model.probeReports["dante"])
            #expect(findings.contains { $0.key == "relay_echo" && $0.verdict == .yes })
            #expect(c.model.probesRunning["dante"] == nil)
            #expect(c.model.message?.text.contains("(f: every finding)") == true)
            _ = await c.handle(.character("f"))
            #expect(c.model.overlay == .findings(server: "dante"))
            c.fit(height: 24, width: 80)
            _ = await c.handle(.end)
            #expect(c.model.overlayScroll == c.model.overlayMaximumScroll && c.model.overlayScroll > 0)
            _ = await c.handle(.escape)
            #expect(c.model.overlay == nil)
        }
    }

    @Test func clicksAndTheWheelGoToThePaneUnderTheMouse() async throws {
        let c = try Self.controller()
        let engine = c.engine
        try await withEngine(engine) { engine in
            c.fit(height: 35, width: 120)
            let layout = Layout.compute(height: 35, width: 120, model: c.model)
            let servers = try #require(layout.panes[.servers])
            // The second server's row: below the border and the column titles.
            _ = await c.handle(.mouse(MouseEvent(.click, y: servers.inner.y + 2, x: servers.x + 3)))
            #expect(c.model.focused == .servers && c.model.selectedServer == 1)
            let log = try #require(layout.panes[.log])
            _ = await c.handle(.mouse(MouseEvent(.wheelUp, y: log.inner.y, x: log.x + 3)))
            #expect(c.model.focused == .log)
            // A click on nothing (the header row) changes nothing.
            _ = await c.handle(.mouse(MouseEvent(.click, y: 0, x: 3)))
            #expect(c.model.focused == .log)
        }
    }

    static func type(_ text: String, into c: DeckController) async {
        for ch in text { _ = await c.handle(.character(ch)) }
    }

    /// a adds a server typed as socks5://user@host:port with its password (dots on screen), it
    /// works at once, and y saves it to the file without the password; D removes it again.
    @Test func aServerAddedFromTheUIWorksAndIsSavedWithoutItsPassword() async throws {
        let peers = try TestPeers.shared()
        let path = try makeTemporaryDirectory("tuiconf") + "/config.toml"
        try "# mine\n[[server]]\nname = \"dante\"\naddress = \"127.0.0.1:\(peers.danteNoAuth.port)\"\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let configuration = try DeckConfiguration.load(path: path)
        let engine = SessionEngine(configuration: configuration)
        try await withEngine(engine) { engine in
            let themes = ThemeLibrary.load(
                userFolder: nil,
                environment: ["SOCKSDECK_THEMES": Repository.path("themes")]
            )
            let c = DeckController(engine: engine, themes: themes, theme: .builtInDefault, banner: nil)

            _ = await c.handle(.character("a"))
            #expect(c.model.serverForm != nil)
            _ = await c.handle(.control("u"))
            await Self.type("socks5://\(TestPeers.username)@127.0.0.1:\(peers.danteUserPass.port)", into: c)
            _ = await c.handle(.tab)
            await Self.type(TestPeers.password, into: c)
            let canvas = BufferCanvas(height: 35, width: 120)
            Screen.render(c.model, on: canvas)
            #expect(
                !canvas.text.contains(TestPeers.password) && canvas.text.contains("•••••"),
                "echo off: \(canvas.text)"
            )
            _ = await c.handle(.tab)
            _ = await c.handle(.tab)
            await Self.type("lab auth", into: c)
            _ = await c.handle(.tab)
            _ = await c.handle(.character("y"))
            _ = await c.handle(.enter)
            #expect(c.model.serverForm == nil)
            #expect(c.model.confirmation == .saveServer(c.model.servers[1], replacing: nil))
            _ = await c.handle(.character("y"))
            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(text.hasPrefix("# mine\n[[server]]\nname = \"dante\"") && text.contains("name = \"lab auth\""))
            #expect(text.contains("password_env = \"SOCKS_PASSWORD_LAB_AUTH\"") && !text.contains(TestPeers.password))
            #expect(
                c.model.message?.text.contains("set SOCKS_PASSWORD_LAB_AUTH") == true,
                "\(String(describing: c.model.message))"
            )

            // It works now, with the password typed.
            _ = await c.perform(.open)
            let up = await Self.statusAfter("opening", c)
            #expect(up.hasPrefix("#1 associated through lab auth"), "\(up)")

            // D asks; y removes it from the list and the file.
            _ = await c.handle(.backTab)
            #expect(c.model.selectedServerDefinition?.name == "lab auth")
            _ = await c.handle(.character("D"))
            #expect(c.model.confirmation == .removeServer("lab auth", fromFile: true))
            _ = await c.handle(.character("y"))
            #expect(c.model.servers.map(\.name) == ["dante"])
            #expect(
                try String(contentsOfFile: path, encoding: .utf8)
                    == "# mine\n[[server]]\nname = \"dante\"\naddress = \"127.0.0.1:\(peers.danteNoAuth.port)\"\n"
            )
        }
    }

    @Test func aWrongServerFormSaysWhichFieldAndKeepsTheText() async throws {
        let c = try Self.controller()
        let engine = c.engine
        try await withEngine(engine) { engine in
            _ = await c.handle(.character("e"))
            let form = try #require(c.model.serverForm)
            #expect(form.fields.values[0] == c.model.servers[0].address && form.fields.values[3] == "dante")
            _ = await c.handle(.tab)
            _ = await c.handle(.tab)
            _ = await c.handle(.control("u"))
            await Self.type("nowhere", into: c)
            _ = await c.handle(.enter)
            #expect(c.model.serverForm?.fields.problem?.field == 2 && c.model.serverForm?.fields.values[2] == "nowhere")
            _ = await c.handle(.control("u"))
            _ = await c.handle(.tab)
            _ = await c.handle(.control("u"))
            await Self.type("microsocks", into: c)
            _ = await c.handle(.enter)
            #expect(c.model.serverForm?.fields.problem?.message == "a server is named 'microsocks' already")
            _ = await c.handle(.escape)
            #expect(c.model.serverForm == nil && c.model.servers.map(\.name) == ["dante", "microsocks"])
        }
    }

    /// A controller over Dante whose dns and stun check targets are the offline services, with
    /// one association open and selected.
    static func controllerWithChecksSet() async throws -> (DeckController, SessionEngine, AssociationID, UDPServices) {
        let peers = try TestPeers.shared()
        let services = try UDPServices.shared()
        var server = ServerDefinition(name: "dante", host: "127.0.0.1", port: peers.danteNoAuth.port)
        server.checkTargets = CheckTargets(
            dns: .ip(IPEndpoint(.v4(.loopback), port: services.dnsPort)),
            stun: .ip(IPEndpoint(.v4(.loopback), port: services.stunPort))
        )
        let engine = SessionEngine(configuration: DeckConfiguration(servers: [server]))
        let themes = ThemeLibrary.load(userFolder: nil, environment: ["SOCKSDECK_THEMES": Repository.path("themes")])
        let c = DeckController(engine: engine, themes: themes, theme: .builtInDefault, banner: nil)
        _ = await c.perform(.open)
        let status = await statusAfter("opening", c)
        guard let id = c.model.selectedAssociationSnapshot?.id else {
            await engine.shutdown()
            throw PeerError.failed("no association opened through Dante: \(status)")
        }
        return (c, engine, id, services)
    }

    /// c on an association: the form is prefilled from the server's dns setting; the result
    /// lands in the Detail pane. N runs the NAT test with the server's stun setting.
    @Test func checksFromTheUIShowTheirResultsInTheDetail() async throws {
        let (c, engine, id, services) = try await Self.controllerWithChecksSet()
        try await withEngine(engine) { engine in
            _ = await c.handle(.character("c"))
            let form = try #require(c.model.checkForm)
            #expect(form.fields.values[0] == "dns" && form.fields.values[1] == "127.0.0.1:\(services.dnsPort)")
            // The name field (the form opens on the check's kind): socksdeck.test instead of example.com.
            _ = await c.handle(.tab)
            _ = await c.handle(.tab)
            _ = await c.handle(.control("u"))
            await Self.type("socksdeck.test", into: c)
            _ = await c.handle(.enter)
            #expect(c.model.checkForm == nil && c.model.checksRunning[id] != nil)
            // The result and the Log's line come by two ways (the check's task, the engine's view),
            // and one refresh may bring the first before the second: wait for both.
            func logged() -> Bool {
                c.model.events.contains { $0.message.hasPrefix("check dns 127.0.0.1:\(services.dnsPort): passed") }
            }
            var deadline = Date().addingTimeInterval(10)
            while (c.model.checkResults[id]?.count != 1 || !logged()) && Date() < deadline {
                await c.refresh()
                try? await Task.sleep(for: .milliseconds(20))
            }
            #expect(c.model.checkResults[id]?.first?.summary == "NOERROR: A 127.0.0.9 (TTL 60)")
            let a = try #require(c.model.selectedAssociationSnapshot)
            let lines = DetailPane.lines(for: a, width: 100, checks: c.model.checkResults[id] ?? []).map(\.0)
            #expect(
                lines.contains { $0.hasPrefix("✔ DNS 127.0.0.1:\(services.dnsPort): NOERROR: A 127.0.0.9") },
                "\(lines)"
            )
            #expect(logged(), "\(c.model.events.suffix(5).map(\.message))")
            _ = await c.handle(.character("N"))
            deadline = Date().addingTimeInterval(20)
            while c.model.checkResults[id]?.count != 2 && Date() < deadline {
                await c.refresh()
                try? await Task.sleep(for: .milliseconds(50))
            }
            #expect(
                c.model.checkResults[id]?.last?.finding.natType == "port-restricted cone",
                "\(String(describing: c.model.checkResults[id]))"
            )
        }
    }

    /// N pressed while the DNS check runs (or before its result is drawn) waits its turn: the
    /// Detail pane says it is next, and both results come, in the order asked.
    @Test func aCheckAskedForWhileOneRunsWaitsItsTurn() async throws {
        let (c, engine, id, services) = try await Self.controllerWithChecksSet()
        try await withEngine(engine) { engine in
            _ = await c.handle(.character("c"))
            _ = await c.handle(.enter)
            // No refresh in between: the DNS result cannot have been taken yet.
            _ = await c.handle(.character("N"))
            let stun = try #require(SOCKSAddress(destination: "127.0.0.1:\(services.stunPort)"))
            #expect(c.model.checksWaiting[id] == [.nat(server: stun)])
            let activity = c.model.checkActivity(id) ?? ""
            #expect(activity.hasPrefix("dns 127.0.0.1:\(services.dnsPort)…, then nat 127.0.0.1:"), "\(activity)")
            let deadline = Date().addingTimeInterval(20)
            while c.model.checkResults[id]?.count != 2 && Date() < deadline {
                await c.refresh()
                try? await Task.sleep(for: .milliseconds(50))
            }
            #expect(c.model.checkResults[id]?.map(\.check) == [.dns, .nat], "\(String(describing: c.model.message))")
            #expect(c.model.checksWaiting[id] == nil && c.model.checksRunning[id] == nil)
        }
    }

    /// Two associations through Dante, both settled, the first (a) selected in the Associations
    /// pane; b is the other one.
    static func twoAssociations(
        _ c: DeckController
    ) async throws -> (a: AssociationID, b: AssociationID) {
        let dante = try #require(c.model.servers.first)
        let a = try await c.engine.open(server: dante)
        let b = try await c.engine.open(server: dante)
        for id in [a, b] { _ = await c.engine.waitUntilSettled(id, timeout: .seconds(5)) }
        await c.refresh()
        _ = await c.handle(.tab)
        c.model.selectedAssociation = try #require(c.model.visibleAssociations.firstIndex { $0.id == a })
        return (a, b)
    }

    static func select(_ id: AssociationID, in c: DeckController) throws {
        c.model.selectedAssociation = try #require(c.model.visibleAssociations.firstIndex { $0.id == id })
        #expect(c.model.selectedAssociationID == id)
    }

    /// Refreshes until `done` holds or `seconds` pass.
    static func refresh(_ c: DeckController, seconds: Double = 5, until done: () async -> Bool) async {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline, await !done() {
            await c.refresh()
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The send form sends through the association it was opened on, even when another row is
    /// selected by the time Enter is pressed.
    @Test func theSendFormSendsThroughTheAssociationItWasOpenedOn() async throws {
        let c = try Self.controller()
        let engine = c.engine
        try await withEngine(engine) { engine in
            let (a, b) = try await Self.twoAssociations(c)
            _ = await c.handle(.character("s"))
            #expect(c.model.form?.association == a)
            try Self.select(b, in: c)
            _ = await c.handle(.enter)
            #expect(c.model.form == nil)
            await Self.refresh(c) { await engine.snapshot(a)?.counters.datagramsReceived == 1 }
            #expect(await engine.snapshot(a)?.counters.datagramsSent == 1)
            #expect(await engine.snapshot(b)?.counters.datagramsSent == 0)
        }
    }

    /// The check form runs its check through the association it was opened on.
    @Test func theCheckFormChecksTheAssociationItWasOpenedOn() async throws {
        let (c, engine, _, services) = try await Self.controllerWithChecksSet()
        try await withEngine(engine) { engine in
            let dante = try #require(c.model.servers.first)
            let b = try await engine.open(server: dante)
            _ = await engine.waitUntilSettled(b, timeout: .seconds(5))
            await c.refresh()
            c.model.focused = .associations
            let a = try #require(c.model.visibleAssociations.first { $0.id != b }?.id)
            try Self.select(a, in: c)
            _ = await c.handle(.character("c"))
            #expect(c.model.checkForm?.association == a)
            try Self.select(b, in: c)
            _ = await c.handle(.enter)
            #expect(c.model.checksRunning[a] != nil && c.model.checksRunning[b] == nil)
            await Self.refresh(c, seconds: 10) { c.model.checkResults[a]?.count == 1 }
            #expect(c.model.checkResults[a]?.first?.check == .dns, "\(services.dnsPort)")
            #expect(c.model.checkResults[b] == nil)
        }
    }

    /// After s and Enter, the status line and the log say how many went and how many replies
    /// came back; a send the engine refuses says so with the engine's reason.
    @Test func aSendEndsWithItsResult() async throws {
        let c = try Self.controller()
        let engine = c.engine
        try await withEngine(engine) { engine in
            let (a, _) = try await Self.twoAssociations(c)
            _ = await c.handle(.character("s"))
            _ = await c.handle(.enter)
            let status = await Self.statusAfter("sending", c)
            #expect(status.hasPrefix("#\(a.value) sent 1 of 1 × 20 bytes to 127.0.0.1:"), "\(status)")
            #expect(status.hasSuffix("; 1 reply within 1 s"), "\(status)")
            #expect(c.model.message?.role == .ok)
            let logged = c.model.logLines(upTo: c.model.logCount, count: 100)
            #expect(logged.contains { $0.association == a && $0.message.hasPrefix("send: sent 1 of 1") }, "\(logged)")
            // Too large for a datagram: the engine refuses it, and the refusal is said.
            var huge = SendRequest(
                target: c.model.servers[0].echo!.description,
                payload: String(repeating: "x", count: 70_000)
            )
            _ = huge.validate()
            c.model.lastSend = huge
            _ = await c.handle(.character("r"))
            let refused = await Self.statusAfter("sending", c)
            #expect(refused.hasPrefix("#\(a.value) send of 70000 bytes to 127.0.0.1:"), "\(refused)")
            #expect(refused.contains("refused: "), "\(refused)")
            #expect(c.model.message?.role == .error)
            let after = c.model.logLines(upTo: c.model.logCount, count: 100)
            #expect(after.contains { $0.level == .error && $0.message.hasPrefix("send of 70000 bytes") }, "\(after)")
            // The log pane shows the UI's line.
            let canvas = BufferCanvas(height: 30, width: 160)
            Screen.render(c.model, on: canvas)
            #expect(canvas.text.contains("#\(a.value) send: sent 1 of 1"), "\(canvas.text)")
        }
    }
}

extension CheckFinding {
    /// The NAT test's RFC 3489 name, or nil for any other finding.
    fileprivate var natType: String? {
        if case .nat(let nat) = self { return nat.legacyName }
        return nil
    }
}
