import Foundation
import Socks5
import Testing

@testable import SocksDeckEngine
@testable import SocksDeckTUI

/// The panes rendered from a model onto a text buffer: no terminal, no network.
@Suite struct ScreenTests {
    static func snapshot(
        id: Int,
        server: String,
        state: ControlConnectionState,
        sent: Int = 0,
        received: Int = 0,
        probe: ProbeSummary? = nil,
        closedBy: AssociationCloser? = nil
    ) -> AssociationSnapshot {
        var counters = DatagramCounters()
        counters.datagramsSent = sent
        counters.datagramsReceived = received
        let rendezvous = try? RendezvousAddress(
            reply: .ip(IPEndpoint("0.0.0.0:40000")!),
            server: IPEndpoint("127.0.0.1:1080")!
        )
        return AssociationSnapshot(
            id: AssociationID(id),
            serverName: server,
            serverAddress: "127.0.0.1:1080",
            requestedFamily: .ipv4,
            state: state,
            history: [(.connecting, Date()), (state, Date())],
            controlLocal: "127.0.0.1:5555",
            controlRemote: "127.0.0.1:1080",
            rendezvous: state == .associated ? rendezvous : nil,
            dataSocketLocal: "0.0.0.0:6666",
            counters: counters,
            opened: Date(),
            ended: nil,
            lastSent: nil,
            lastReceived: nil,
            sendRate: RateMeter(),
            receiveRate: RateMeter(),
            recent: [],
            probe: probe,
            closedBy: closedBy
        )
    }

    static func model() -> DeckModel {
        var m = DeckModel(servers: [
            ServerDefinition(name: "dante", host: "127.0.0.1", port: 1080),
            ServerDefinition(
                name: "secure",
                host: "::1",
                port: 1081,
                credentials: Credentials(username: "alice", password: "never-shown-42")
            ),
            ServerDefinition(name: "noudp", host: "127.0.0.1", port: 1082),
        ])
        let refused = SOCKS5Error(code: .commandNotSupported, replyByte: 7, command: .udpAssociate)
        m.associations = [
            snapshot(id: 1, server: "dante", state: .associated, sent: 12, received: 11),
            snapshot(id: 2, server: "noudp", state: .failed(AssociationFailure(refused))),
        ]
        m.focused = .associations
        return m
    }

    @Test(arguments: [(120, 35), (80, 24), (60, 20), (40, 10)])
    func rendersAtEverySize(width: Int, height: Int) {
        let canvas = BufferCanvas(height: height, width: width)
        Screen.render(Self.model(), on: canvas)
        let text = canvas.text
        #expect(text.contains("SocksDeck"))
        #expect(text.contains("Associations"))
        #expect(!text.contains("never-shown-42"))
        if height >= 20 {
            #expect(text.contains("dante") && text.contains("127.0.0.1:40000"), "\(text)")
        }
        // Nothing is written past the edge.
        #expect(canvas.lines.allSatisfy { displayWidth($0) <= width })
    }

    @Test func theRendezvousIsTheUsedOneAndTheReplacementIsExplained() {
        var m = Self.model()
        m.focused = .associations
        let canvas = BufferCanvas(height: 35, width: 180)
        Screen.render(m, on: canvas)
        #expect(canvas.text.contains("rendezvous   127.0.0.1:40000"))
        #expect(canvas.text.contains("as received  0.0.0.0:40000 (unspecified"))
    }

    @Test func statesAreColouredByRole() throws {
        let canvas = BufferCanvas(height: 35, width: 140)
        var m = Self.model()
        m.focused = .servers
        Screen.render(m, on: canvas)
        let lines = canvas.lines
        func column(of word: String, inRowWith marker: String) throws -> (Int, Int) {
            let row = try #require(
                lines.firstIndex { $0.hasPrefix("│\(marker) ") && $0.contains(word) },
                "\(canvas.text)"
            )
            let range = try #require(lines[row].range(of: word))
            return (row, lines[row].distance(from: lines[row].startIndex, to: range.lowerBound))
        }
        let (failedRow, failedX) = try column(of: "failed", inRowWith: "#2")
        #expect(canvas.role(y: failedRow, x: failedX) == .error)
        let (okRow, okX) = try column(of: "associated", inRowWith: "#1")
        #expect(canvas.role(y: okRow, x: okX) == .ok)
    }

    @Test func theServersPaneShowsWhatIsKnown() {
        let canvas = BufferCanvas(height: 35, width: 120)
        Screen.render(Self.model(), on: canvas)
        #expect(canvas.text.contains("UDP works"))
        #expect(canvas.text.contains("REP 7: no UDP"))
        #expect(canvas.text.contains("user alice"))
    }

    @Test func filterAndSort() {
        var m = Self.model()
        m.filter = "noudp"
        #expect(m.visibleAssociations.map(\.id.value) == [2])
        m.filter = ""
        m.sort = .traffic
        #expect(m.visibleAssociations.first?.id.value == 1)
        m.sort = .state
        #expect(m.visibleAssociations.map(\.state.name) == ["associated", "failed"])
    }

    /// The box on `rect` is whole: four corners, and a border on both sides of every inner row.
    static func expectBoxIntact(_ canvas: BufferCanvas, _ rect: Rect, _ what: String) {
        let right = rect.x + rect.width - 1
        let bottom = rect.y + rect.height - 1
        let corners = [
            canvas.character(y: rect.y, x: rect.x), canvas.character(y: rect.y, x: right),
            canvas.character(y: bottom, x: rect.x), canvas.character(y: bottom, x: right),
        ]
        #expect(corners == ["┌", "┐", "└", "┘"], "\(what): corners \(corners)\n\(canvas.text)")
        for y in (rect.y + 1)..<bottom {
            let sides = [canvas.character(y: y, x: rect.x), canvas.character(y: y, x: right)]
            #expect(sides == ["│", "│"], "\(what): row \(y) has \(sides)\n\(canvas.text)")
        }
    }

    /// The rectangle of the box whose top row holds `title`.
    static func box(titled title: String, in canvas: BufferCanvas) -> Rect? {
        let lines = canvas.lines
        guard let y = lines.firstIndex(where: { $0.contains("┌") && $0.contains(title) }) else { return nil }
        let row = (0..<canvas.width).map { canvas.character(y: y, x: $0) }
        guard let left = row.lastIndex(where: { $0 == "┌" }),
            let right = row[left...].firstIndex(where: { $0 == "┐" })
        else { return nil }
        guard let bottom = ((y + 1)..<canvas.height).first(where: { canvas.character(y: $0, x: left) == "└" }) else {
            return nil
        }
        return Rect(y: y, x: left, height: bottom - y + 1, width: right - left + 1)
    }

    /// Every pane focused in turn, and each overlay open, at the sizes people use: no text past
    /// or over an edge. A long probe summary and a long server name try to push through.
    @Test(arguments: [(120, 35), (80, 24), (50, 14), (40, 12)])
    func bordersStayIntactWithEveryPaneAndOverlay(width: Int, height: Int) throws {
        var m = Self.model()
        m.servers.append(ServerDefinition(name: "a-very-long-server-name", host: "2001:db8::1234:5678", port: 65000))
        m.probeSummaries["dante"] = "UDP ✔ relayed · port-locked · max 65000+ B · replies to declared port only"
        for pane in PaneID.allCases {
            m.focused = pane
            let canvas = BufferCanvas(height: height, width: width)
            Screen.render(m, on: canvas)
            for (shown, rect) in Layout.compute(height: height, width: width, model: m).panes {
                Self.expectBoxIntact(canvas, rect, "\(width)x\(height), \(pane) focused: \(shown)")
            }
            #expect(!canvas.text.contains("……"), "\(canvas.text)")
        }
        m.focused = .associations
        var findings = m
        findings.probeReports["dante"] = Self.findings
        findings.overlay = .findings(server: "dante")
        var zoomed = m
        zoomed.zoomed = true
        for z in PaneID.allCases {
            zoomed.focused = z
            let canvas = BufferCanvas(height: height, width: width)
            Screen.render(zoomed, on: canvas)
            let rect = try #require(Layout.compute(height: height, width: width, model: zoomed).panes[z])
            Self.expectBoxIntact(canvas, rect, "\(z) zoomed at \(width)x\(height)")
        }
        var serverForm = m
        serverForm.serverForm = ServerForm(mode: .add)
        var help = m
        help.helpVisible = true
        var form = m
        form.form = SendRequest(target: "127.0.0.1:9", payload: String(repeating: "long payload ", count: 10))
        for (name, model, title) in [
            ("help", help, "Keys"), ("send form", form, "Send through"), ("findings", findings, "Probe of dante"),
            ("server form", serverForm, "Add a server"),
        ] {
            let canvas = BufferCanvas(height: height, width: width)
            Screen.render(model, on: canvas)
            let rect = try #require(
                Self.box(titled: title, in: canvas),
                "\(name) at \(width)x\(height)\n\(canvas.text)"
            )
            Self.expectBoxIntact(canvas, rect, "\(name) at \(width)x\(height)")
        }
    }

    static let findings: [ProbeFinding] = (1...12).map {
        ProbeFinding(
            key: ProbeFinding.Key(rawValue: "k\($0)"),
            title: "finding number \($0)",
            verdict: $0 % 2 == 0 ? .yes : .no,
            value: "value \($0)",
            evidence: "evidence \($0): " + String(repeating: "a long sentence of evidence ", count: 3)
        )
    }

    /// The help and a probe's findings scroll at any size, their borders whole, and the last
    /// line can be reached.
    @Test(arguments: [(120, 35), (80, 24), (40, 12)])
    func overlaysScrollToTheirLastLine(width: Int, height: Int) throws {
        var m = Self.model()
        m.probeReports["dante"] = Self.findings
        for (overlay, last, title) in [
            (OverlayKind.help, "? or Esc closes", "Keys"),
            (.findings(server: "dante"), "gives the same as JSON", "Probe of dante"),
        ] {
            m.overlay = overlay
            let controller = Layout.compute(height: height, width: width, model: m)
            let lines = overlay == .help ? HelpOverlay.styled() : FindingsOverlay.styled(Self.findings)
            let geometry = TextOverlay.geometry(lines, in: controller.body)
            m.overlayMaximumScroll = geometry.maximumScroll
            m.move(1_000_000)
            #expect(m.overlayScroll == geometry.maximumScroll)
            let canvas = BufferCanvas(height: height, width: width)
            Screen.render(m, on: canvas)
            let box = try #require(Self.box(titled: title, in: canvas), "\(canvas.text)")
            Self.expectBoxIntact(canvas, box, "\(title) at \(width)x\(height)")
            #expect(
                canvas.text.replacingOccurrences(of: "│", with: " ").split(separator: "\n")
                    .map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ").contains(last),
                "\(title) at \(width)x\(height), scrolled to the end:\n\(canvas.text)"
            )
            if geometry.maximumScroll > 0 { #expect(canvas.text.contains("↑\(geometry.maximumScroll)")) }
            m.move(-1_000_000)
            #expect(m.overlayScroll == 0)
        }
    }

    /// The Detail pane wraps, scrolls, and zoomed takes the whole body: every line of a long
    /// failure readable at 80×24.
    @Test func theDetailPaneWrapsScrollsAndZooms() throws {
        var m = Self.model()
        m.focused = .associations
        m.selectedAssociation = 1
        m.focused = .detail
        let width = 80
        let height = 24
        var layout = Layout.compute(height: height, width: width, model: m)
        let rect = try #require(layout.panes[.detail])
        let a = try #require(m.selectedAssociationSnapshot)
        let lines = DetailPane.lines(for: a, width: rect.inner.width)
        #expect(lines.allSatisfy { displayWidth($0.0) <= rect.inner.width })
        #expect(lines.contains { $0.0.hasPrefix("hint ") }, "the failure's hint is there, wrapped")
        m.detailMaximumScroll = max(lines.count - rect.inner.height, 0)
        m.move(1_000_000)
        let canvas = BufferCanvas(height: height, width: width)
        Screen.render(m, on: canvas)
        #expect(canvas.text.contains("recent datagrams (newest first):"), "\(canvas.text)")
        m.zoomed = true
        layout = Layout.compute(height: height, width: width, model: m)
        #expect(layout.panes.keys.map(\.self) == [.detail] && layout.panes[.detail] == layout.body)
    }

    @Test(arguments: [40, 80, 120, 200])
    func theStatusLineShowsWholeHintsOnly(width: Int) {
        for pane in PaneID.allCases {
            var m = Self.model()
            m.focused = pane
            let canvas = BufferCanvas(height: 24, width: width)
            Screen.render(m, on: canvas)
            let status = canvas.lines[23].trimmingCharacters(in: .whitespaces)
            let hints = KeyTable.hints(for: pane)
            let shown = status.components(separatedBy: "  ")
            #expect(!shown.isEmpty && shown.allSatisfy(hints.contains), "\(pane) at \(width): '\(status)'")
            #expect(shown == Array(hints.prefix(shown.count)), "most useful first")
        }
    }

    @Test func theLogScrollsNoFurtherThanItsOldestLine() {
        var m = Self.model()
        m.events = (1...20).map { EngineEvent(time: Date(), level: .info, association: nil, message: "event \($0)") }
        m.logRows = 6
        m.focused = .log
        m.move(-1_000_000)
        #expect(m.logScroll == 14)
        let canvas = BufferCanvas(height: 35, width: 120)
        Screen.render(m, on: canvas)
        #expect(
            canvas.text.contains("event 1 ") && canvas.text.contains("event 6 ") && !canvas.text.contains("event 7 ")
        )
        m.move(1_000_000)
        #expect(m.logScroll == 0)
    }

    /// The width a terminal gives a line: glibc's wcwidth under a UTF-8 LC_CTYPE, asked here
    /// directly rather than through displayWidth.
    static func terminalWidth(_ line: String) -> Int {
        setlocale(LC_CTYPE, "C.UTF-8")
        let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "wcwidth")
        let wcwidth = unsafeBitCast(symbol, to: (@convention(c) (wchar_t) -> Int32).self)
        return line.unicodeScalars.reduce(0) { $0 + Int(wcwidth(wchar_t(bitPattern: $1.value))) }
    }

    /// Server names with an umlaut, an emoji and katakana: every row is as wide as the screen
    /// in the terminal's count, so every border stays where the layout put it.
    @Test(arguments: [(80, 24), (40, 12)])
    func namesInAnyScriptKeepEveryBorder(width: Int, height: Int) {
        var m = Self.model()
        m.servers = [
            ServerDefinition(name: "dänte 🚀", host: "127.0.0.1", port: 1080),
            ServerDefinition(name: "プロキシ", host: "127.0.0.1", port: 1081),
        ]
        m.associations = [
            Self.snapshot(id: 1, server: "dänte 🚀", state: .associated, sent: 3, received: 3),
            Self.snapshot(id: 2, server: "プロキシ", state: .associated),
        ]
        for pane in PaneID.allCases {
            m.focused = pane
            let canvas = BufferCanvas(height: height, width: width)
            Screen.render(m, on: canvas)
            #expect(canvas.text.contains("🚀") && canvas.text.contains("プロキシ"), "\(canvas.text)")
            for (y, line) in canvas.lines.enumerated() {
                #expect(Self.terminalWidth(line) == width, "row \(y) at \(width)x\(height): \(line)")
            }
            for (shown, rect) in Layout.compute(height: height, width: width, model: m).panes {
                Self.expectBoxIntact(canvas, rect, "\(width)x\(height), \(pane) focused: \(shown)")
            }
        }
    }

    /// Controls (wcwidth -1) never reach the terminal raw: each is drawn as U+FFFD, one cell.
    @Test func controlCharactersAreDrawnAsAReplacement() {
        #expect(displayWidth("a\tb\u{1B}c\u{85}") == 6)
        #expect(fit("a\tb\u{1B}[31m", 20) == "a\u{FFFD}b\u{FFFD}[31m")
        var m = Self.model()
        m.servers[0].name = "evil\u{1B}[2J\tname"
        let canvas = BufferCanvas(height: 24, width: 80)
        Screen.render(m, on: canvas)
        #expect(!canvas.text.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" || $0.value == 0x1B })
        #expect(canvas.text.contains("evil\u{FFFD}[2J\u{FFFD}name"), "\(canvas.text)")
    }

    /// A filter that hides every association says so, and how to clear it, rather than
    /// telling to open one.
    @Test func aFilterThatMatchesNothingSaysSo() {
        var m = Self.model()
        m.filter = "zzz"
        #expect(m.visibleAssociations.isEmpty && !m.associations.isEmpty)
        let canvas = BufferCanvas(height: 24, width: 100)
        Screen.render(m, on: canvas)
        #expect(!canvas.text.contains("No associations"), "\(canvas.text)")
        #expect(canvas.text.contains("Nothing matches the filter 'zzz' (2 hidden): / then Esc clears it."))
    }

    /// At 40x10 the Associations pane still shows a row under its header.
    @Test func theSmallestScreenShowsAnAssociationRow() throws {
        let m = Self.model()
        let canvas = BufferCanvas(height: 10, width: 40)
        Screen.render(m, on: canvas)
        let rect = try #require(Layout.compute(height: 10, width: 40, model: m).panes[.associations])
        #expect(rect.inner.height >= 2, "\(rect)")
        #expect(canvas.lines[rect.inner.y + 1].contains("#1"), "\(canvas.text)")
        Self.expectBoxIntact(canvas, rect, "associations at 40x10")
    }

    /// More servers than rows: the Servers pane's bottom border says how many are below (and,
    /// scrolled, above).
    @Test func theServersPaneMarksRowsOutOfView() throws {
        var m = Self.model()
        m.servers = (1...12).map { ServerDefinition(name: "server\($0)", host: "127.0.0.1", port: 1000 + $0) }
        m.focused = .servers
        let canvas = BufferCanvas(height: 24, width: 80)
        Screen.render(m, on: canvas)
        let rect = try #require(Layout.compute(height: 24, width: 80, model: m).panes[.servers])
        let shown = rect.inner.height - 1
        #expect(shown < 12)
        #expect(canvas.lines[rect.y + rect.height - 1].contains(" ↓\(12 - shown) "), "\(canvas.text)")
        Self.expectBoxIntact(canvas, rect, "servers")
        m.selectedServer = 11
        let scrolled = BufferCanvas(height: 24, width: 80)
        Screen.render(m, on: scrolled)
        let bottom = scrolled.lines[rect.y + rect.height - 1]
        #expect(bottom.contains(" ↑\(12 - shown) ") && !bottom.contains("↓"), "\(scrolled.text)")
    }

    /// The Associations pane shows the probe's loss, and an RTT whose answers stopped coming
    /// is marked stale (`?`, dimmed); a fresh one is not.
    @Test func probeLossAndAStaleRTTShowAtAGlance() throws {
        var m = Self.model()
        var fresh = ProbeSummary(target: "127.0.0.1:7")
        fresh.sent = 10
        fresh.answered = 10
        fresh.rttP50 = .microseconds(420)
        fresh.lastReply = Date()
        var stale = fresh
        stale.lost = 4
        stale.answered = 6
        stale.rttP50 = .microseconds(1500)
        stale.lastReply = Date().addingTimeInterval(-10)
        m.associations[0].probe = fresh
        m.associations[1].probe = stale
        m.focused = .servers
        let canvas = BufferCanvas(height: 30, width: 100)
        Screen.render(m, on: canvas)
        let lines = canvas.lines
        let header = try #require(lines.first { $0.contains("RTTms") && $0.contains("LOSS") }, "\(canvas.text)")
        #expect(header.contains("RTTms  LOSS"))
        let one = try #require(lines.first { $0.hasPrefix("│#1 ") })
        let two = try #require(lines.firstIndex { $0.hasPrefix("│#2 ") })
        #expect(one.contains(" 0.42 ") && one.contains(" 0% ") && !one.contains("?"), "\(one)")
        #expect(lines[two].contains(" 1.50? ") && lines[two].contains(" 40% "), "\(lines[two])")
        let x = try #require(
            lines[two].range(of: "1.50?").map { lines[two].distance(from: lines[two].startIndex, to: $0.lowerBound) }
        )
        #expect(canvas.role(y: two, x: x) == .muted)
    }

    @Test func wideCharactersTakeTwoCells() {
        #expect(displayWidth("abc") == 3 && displayWidth("服务器") == 6 && displayWidth("é") == 1)
        #expect(displayWidth(fit("服务器服务器", 7)) <= 7)
        let canvas = BufferCanvas(height: 1, width: 10)
        canvas.put("服务器abc", y: 0, x: 0)
        #expect(canvas.lines[0].hasPrefix("服务器abc"))
    }
}

@Suite struct KeyTableTests {
    /// Every action bound to a pane has that pane's handler to do it (htop's model), and the
    /// key table names one pane for it.
    @Test func everyPaneActionHasItsPanesHandler() {
        for binding in KeyTable.all {
            guard let pane = binding.pane, binding.action != .nextPane else { continue }
            #expect(KeyTable.pane(of: binding.action) == pane, "\(binding.action)")
            #expect(PaneKeys.handler(for: pane) != nil, "\(binding.action) in \(pane)")
        }
        #expect(PaneKeys.handler(for: .log) == nil && PaneKeys.handler(for: .detail) == nil)
    }

    @Test func paneBindingsWinOverGlobalOnes() {
        #expect(KeyTable.action(for: .enter, in: .servers) == .open)
        #expect(KeyTable.action(for: .enter, in: .associations) == .nextPane)
        #expect(KeyTable.action(for: .character("x"), in: .associations) == .close)
        #expect(KeyTable.action(for: .character("x"), in: .servers) == .stopForward)
        #expect(KeyTable.action(for: .character("q"), in: .log) == .quit)
    }

    @Test func theHelpIsWrittenFromTheTable() {
        let help = HelpOverlay.lines().joined(separator: "\n")
        for binding in KeyTable.all {
            #expect(help.contains(binding.help), "\(binding.help)")
        }
        // No key is bound twice in the same place.
        for pane in [nil] + PaneID.allCases.map(Optional.some) {
            let keys = KeyTable.all.filter { $0.pane == pane }.flatMap(\.keys)
            #expect(Set(keys).count == keys.count)
        }
    }
}

@Suite struct ThemeTests {
    @Test func everyShippedThemeParses() throws {
        let folder = Repository.path("themes")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".toml") }
        #expect(
            Set(files).isSuperset(of: [
                "default.toml", "dark.toml", "light.toml", "high-contrast.toml", "monochrome.toml",
            ])
        )
        for file in files {
            let theme = try Theme.parse(
                try String(contentsOfFile: folder + "/" + file, encoding: .utf8),
                fallbackName: file
            )
            #expect(Role.allCases.allSatisfy { theme.styles[$0] != nil }, "\(file)")
        }
        let mono = try Theme.parse(
            try String(contentsOfFile: folder + "/monochrome.toml", encoding: .utf8),
            fallbackName: "m"
        )
        #expect(!mono.usesColor)
    }

    @Test func brokenThemesAreReportedWithTheLine() {
        #expect(
            throws: ThemeError(
                line: 3,
                message: "unknown role 'texte' (roles: \(Role.allCases.map(\.rawValue).joined(separator: ", ")))"
            )
        ) {
            try Theme.parse("name = \"x\"\n[roles]\ntexte = { fg = \"red\" }\n", fallbackName: "x")
        }
        do {
            _ = try Theme.parse("name = \"x\"\n[roles]\ntext = { fg = \"purple\" }\n", fallbackName: "x")
            Issue.record("parsed")
        } catch { #expect(error.line == 3 && error.message.contains("not a colour")) }
        // A header toml++ would abort on (the process, not just the parse) is an error too.
        do {
            _ = try Theme.parse("name = \"x\"\n[[[roles]]]\n", fallbackName: "x")
            Issue.record("parsed")
        } catch { #expect(error.line == 2) }
        do {
            _ = try Theme.parse("name = \"x\"\n[roles\n", fallbackName: "x")
            Issue.record("parsed")
        } catch { #expect(error.line == 2) }
    }

    @Test func theLibraryFindsShippedAndUserThemesAndSkipsBrokenOnes() throws {
        let user = try makeTemporaryDirectory("themes")
        try "name = \"mine\"\n[roles]\nok = { fg = \"blue\" }\n".write(
            toFile: user + "/mine.toml",
            atomically: true,
            encoding: .utf8
        )
        try "name = \"broken\"\n[roles]\nok = 5\n".write(
            toFile: user + "/broken.toml",
            atomically: true,
            encoding: .utf8
        )
        let library = ThemeLibrary.load(userFolder: user, environment: ["SOCKSDECK_THEMES": Repository.path("themes")])
        let names = library.themes.map(\.name)
        #expect(
            names.contains("dark") && names.contains("light") && names.contains("high-contrast")
                && names.contains("mine")
        )
        #expect(!names.contains("broken"))
        let missing = ThemeLibrary.load(userFolder: nil, environment: ["SOCKSDECK_THEMES": "/nonexistent/themes"])
        #expect(
            missing.problems.map(\.description) == [
                "/nonexistent/themes: SOCKSDECK_THEMES names a folder that does not exist: only the built-in "
                    + "themes are used"
            ]
        )
        #expect(library.problems.count == 1 && library.problems[0].description.contains("broken.toml:3"))
        // Found from the built binary's location too (swift run), without the variable.
        let found = ThemeLibrary.load(userFolder: nil, environment: [:], executable: try CLITests.binary())
        #expect(found.theme(named: "high-contrast") != nil)
    }
}
