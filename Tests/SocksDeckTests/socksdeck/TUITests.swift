import Foundation
import Testing

@testable import SocksDeckTUI

/// The terminal UI, driven as a person drives it: the real binary in tmux.
@Suite(.tags(.peers), .needsPeers, .serialized) struct TUITests {
    @Test func onTheDemoOpenSendCloseAndTheFailures() throws {
        let t = try TmuxSession(arguments: [], environment: ["XDG_CONFIG_HOME": try makeTemporaryDirectory("tuixdg")])
        defer { t.kill() }
        #expect(t.waitFor("demo-nowhere").found, "\(t.capture())")
        // A frame can be caught mid-redraw: wait for the text rather than reading the screen once.
        #expect(t.waitFor("built-in demo").found, "\(t.capture())")
        // Enter on the first server (demo) opens an association; its rendezvous shows.
        t.send("Enter")
        let opened = t.waitFor {
            $0.contains("1 associated of 1")
                && $0.range(of: #"#1 +demo +127\.0\.0\.1:\d+"#, options: .regularExpression) != nil
        }
        #expect(opened.found, "\(opened.screen)")
        // s opens the send form, prefilled with the echo target; Enter sends.
        t.send("s")
        let form = t.waitFor("Send through #1 demo")
        #expect(form.found, "\(form.screen)")
        t.send("Enter")
        let echoed = t.waitFor("received     1 datagrams")
        #expect(echoed.found, "\(echoed.screen)")
        // The detail scrolls: at its end, the reply with its bytes in hex.
        t.send("Tab")
        t.send("G")
        let end = t.waitFor { $0.contains("\"hello from socksdeck\"") && $0.contains("68 65 6c 6c 6f 20 66 72") }
        #expect(end.found, "the reply is shown, in hex too: \(end.screen)")
        t.send("BTab")
        // x closes it.
        t.send("x")
        #expect(t.waitFor("#1 closed: closed by the user").found, "\(t.capture())")
        // Back to the servers, down to demo-no-udp: the decoded REP 7.
        t.send("BTab")
        t.send("Down", "Down", "Enter")
        let refused = t.waitFor("S5_EOPNOTSUPP")
        #expect(refused.found, "\(refused.screen)")
        // demo-nowhere: a decoded connection error.
        t.send("BTab")
        t.send("Down", "Enter")
        #expect(t.waitFor("ECONNREFUSED").found, "\(t.capture())")
        #expect(!t.capture().contains("demo-password"), "the demo password is in the notice only, never on screen")
        // P probes the selected server (demo, at the top) and shows the summary.
        t.send("BTab")
        t.send("Home", "P")
        let probed = t.waitFor(seconds: 20) { $0.contains("UDP ✔") && $0.contains("port-locked") }
        #expect(probed.found, "\(probed.screen)")
        // q quits, closing every association: the program ends (the pane's shell goes on sleeping).
        #expect(t.programPID != nil, "socksdeck is running before q: \(t.capture())")
        t.send("q")
        let deadline = Date().addingTimeInterval(5)
        var running = true
        while running && Date() < deadline {
            running = t.programPID != nil
            if running { usleep(100_000) }
        }
        #expect(!running, "socksdeck did not end after q")
    }

    @Test func resizesAndThemesWithoutACrash() throws {
        let t = try TmuxSession.demo()
        defer { t.kill() }
        #expect(t.waitFor("demo-nowhere").found)
        t.send("Enter")
        #expect(t.waitFor("1 associated of 1").found)
        for (w, h) in [(80, 24), (60, 20), (120, 35), (40, 12)] {
            t.resize(width: w, height: h)
            let screen = t.waitFor("SocksDeck", seconds: 3)
            #expect(screen.found, "\(w)x\(h): \(screen.screen)")
            #expect(screen.screen.split(separator: "\n").allSatisfy { $0.count <= w }, "\(w)x\(h)")
        }
        t.resize(width: 80, height: 24)
        let before = t.waitFor("theme default").screen
        #expect(before.contains("theme default"), "a new user's first theme is default: \(before)")
        t.send("t")
        let after = t.waitFor("theme: ")
        let themeNow = after.screen.range(of: #"theme [a-z-]+"#, options: .regularExpression).map {
            String(after.screen[$0])
        }
        #expect(after.found && themeNow != nil && themeNow != "theme default", "\(after.screen)")
        t.send("?")
        #expect(t.waitFor("this help").found, "the help overlay comes from the key table")
        t.send("Escape")
        t.send("q")
    }

    /// Issue 16's TUI bugs, as a person meets them on the demo at 80×24: the status line says how
    /// an open settled, Ctrl-U edits the form instead of typing "^U", x removes a failed row, the
    /// log stops at its oldest line, and the servers pane keeps its border at 44 columns.
    @Test func theStatusLineTheFormTheListAndTheLogBehave() throws {
        let t = try TmuxSession(
            width: 80,
            height: 24,
            arguments: ["--demo"],
            environment: ["XDG_CONFIG_HOME": try makeTemporaryDirectory("tuixdg")]
        )
        defer { t.kill() }
        #expect(t.waitFor("demo-no-udp").found)
        t.send("Enter")
        let up = t.waitFor("#1 associated through demo: rendezvous 127.0.0.1:")
        #expect(up.found && !up.screen.contains("opening #1"), "\(up.screen)")
        t.send("s")
        let form = t.waitFor("Send through #1 demo")
        #expect(form.found, "\(form.screen)")
        t.send("C-u")
        t.send("-l", "nowhere")
        t.send("Enter")
        let refused = t.waitFor("✘ target: 'nowhere' is not host:port")
        #expect(refused.found, "the form stays, saying what is wrong: \(refused.screen)")
        #expect(!refused.screen.contains("^U"), "\(refused.screen)")
        let formRow = refused.screen.split(separator: "\n").first { $0.contains("target") && $0.contains("nowhere") }
        #expect(
            formRow.map { $0.filter { $0 == "│" }.count >= 2 } == true,
            "the form's border is whole: \(refused.screen)"
        )
        t.send("Escape")
        // demo-no-udp fails; x on its row removes it (it used to say "closed").
        t.send("BTab")
        t.send("Down", "Down", "Enter")
        #expect(t.waitFor("through demo-no-udp failed: S5_EOPNOTSUPP").found, "\(t.capture())")
        t.send("x")
        #expect(t.waitFor("removed #2 (failed) from the list").found, "\(t.capture())")
        // The log, scrolled all the way up, has its oldest line at the top and no blank rows.
        t.send("Tab", "Tab")
        t.send("g")
        let log = t.waitFor("Log (↑").screen
        let rows = log.split(separator: "\n", omittingEmptySubsequences: false)
        let title = try #require(rows.firstIndex { $0.contains("Log (↑") }, "\(log)")
        let inner = rows[(title + 1)...].prefix { !$0.hasPrefix("└") }
        #expect(
            !inner.isEmpty && inner.allSatisfy { $0.dropFirst().trimmingCharacters(in: .whitespaces).count > 1 },
            "\(log)"
        )
        t.resize(width: 44, height: 16)
        // The frame after the resize: the header ends within 44 columns (a capture taken before
        // the redraw shows the old frame cut by tmux).
        func serverRows(_ screen: String) -> [Substring] {
            screen.split(separator: "\n").filter { $0.hasPrefix("│demo") }
        }
        var narrow = t.capture()
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline,
            serverRows(narrow).isEmpty || !narrow.hasPrefix(" SocksDeck")
                || narrow.split(separator: "\n").first.map({ $0.count > 44 }) == true || !narrow.contains("CAPABILITY")
        {
            usleep(100_000)
            narrow = t.capture()
        }
        usleep(300_000)
        narrow = t.capture()
        #expect(!serverRows(narrow).isEmpty && serverRows(narrow).allSatisfy { $0.hasSuffix("│") }, "\(narrow)")
        t.send("q")
    }

    /// The mouse, as htop users expect: a click focuses a pane and selects the row under it.
    @Test func aClickFocusesAPaneAndSelectsARow() throws {
        let t = try TmuxSession.demo()
        defer { t.kill() }
        #expect(t.waitFor("demo-nowhere").found)
        // Row 4 of the screen is the second server (header at 0, border 1, column titles 2).
        t.click(y: 4, x: 5)
        t.send("Enter")
        #expect(t.waitFor("#1 associated through demo-auth").found, "\(t.capture())")
        // A click in the Associations pane focuses it: S (its key) sorts.
        t.click(y: 12, x: 5)
        t.send("S")
        #expect(t.waitFor("sort:server").found, "\(t.capture())")
        t.send("q")
    }

    /// A click typed while the UI is busy (a slow frame, a slow link) arrives with its release
    /// and the next key in one read; ncurses parsed that run as one and dropped the press, so
    /// Enter opened the server that had been selected before. Stopping the program queues them.
    @Test func aClickQueuedWithItsReleaseAndTheNextKeyIsKept() throws {
        let t = try TmuxSession.demo()
        defer { t.kill() }
        #expect(t.waitFor("demo-nowhere").found)
        let pid = try #require(t.programPID)
        kill(pid, SIGSTOP)
        t.click(y: 5, x: 5)  // demo-no-udp
        t.click(y: 4, x: 5)  // demo-auth: the later click wins
        t.send("Enter")
        usleep(300_000)
        kill(pid, SIGCONT)
        let opened = t.waitFor("#1 associated through demo-auth")
        #expect(opened.found, "\(opened.screen)")
        t.send("q")
    }

    /// The demo shows the checks offline: c runs DNS against the demo's resolver (prefilled), N the
    /// NAT test against its STUN server on 127.0.0.1/127.0.0.2; both land in the Detail pane.
    /// N is pressed while the DNS check runs, so the NAT test is the one that waited its turn.
    @Test func theDemoShowsDNSAndNATResultsOffline() throws {
        let t = try TmuxSession.demo()
        defer { t.kill() }
        #expect(t.waitFor("demo-nowhere").found)
        t.send("Enter")
        #expect(t.waitFor("1 associated of 1").found)
        t.send("c")
        #expect(t.waitFor("Check through #1 demo").found, "\(t.capture())")
        t.send("Enter")
        // N at once, while the DNS check runs: it waits its turn rather than being refused.
        t.send("N")
        // The NAT test's helper association is closed by SocksDeck, and the Log says why.
        let nat = t.waitFor(seconds: 15) {
            $0.contains("(full cone)") && $0.contains("#2 closed: the NAT test it was opened for is over")
        }
        #expect(nat.found, "the demo relay is serve's default, endpoint-independent both ways: \(nat.screen)")
        #expect(!nat.screen.contains("#2 closed: closed by the user"))
        // Both answers stay in Detail (zoomed, for the NAT test's evidence), newest first, whatever the
        // Log has scrolled past. Enter on the server left the focus on Associations.
        t.send("Tab", "z")
        let both = t.waitFor {
            guard $0.contains("Detail #1 via demo"), let n = $0.range(of: "✔ NAT"), let d = $0.range(of: "✔ DNS") else {
                return false
            }
            return n.lowerBound < d.lowerBound && $0.contains("NOERROR: A 127.0.0.9")
        }
        #expect(both.found, "\(both.screen)")
        t.send("q")
    }

    /// Issue 31: F on the demo server opens the forward form (its target the demo's DNS server);
    /// dig through the new forward gets the demo's answer; the flow's association says whose it
    /// is, and Detail decodes the query and the answer with the round trip; x stops the forward.
    @Test func aForwardFromTheFormCarriesDigAndDetailDecodesIt() throws {
        let t = try TmuxSession.demo()
        defer { t.kill() }
        // The demo's own forward is listed from the start.
        let first = t.waitFor { $0.contains("demo-nowhere") && $0.contains("fwd f1") && $0.contains("via demo") }
        #expect(first.found, "\(first.screen)")
        let port = try UDPServices.freeUDPPort(hosts: ["127.0.0.1"])
        t.send("Home", "F")
        #expect(t.waitFor("Forward through demo").found, "\(t.capture())")
        t.send("-l", "\(port)")
        t.send("Enter")
        let started = t.waitFor { $0.contains("forward 127.0.0.1:\(port)=") && $0.contains("listens (x stops it)") }
        #expect(started.found, "\(started.screen)")
        let id = started.screen.range(of: #"f\d+(?=: forward 127)"#, options: .regularExpression).map {
            String(started.screen[$0])
        }
        let forward = try #require(id, "\(started.screen)")
        #expect(try ForwardTests.dig("127.0.0.1", port, "socksdeck.demo") == "127.0.0.9")
        // Beside Detail (120 columns) the rendezvous gives way to the health columns.
        let row = t.waitFor {
            $0.range(
                of: #"#1 +demo +\#(forward) 127\.0\.0\.1:\d+ +associated"#,
                options: .regularExpression
            )
                != nil && $0.contains("1 open, 1 served · →1 ←1")
        }
        #expect(row.found, "the flow's row says whose it is: \(row.screen)")
        // Detail, zoomed: the flow's datagrams decoded, the answer with its round trip.
        t.send("Tab", "Tab", "z")
        let detail = t.waitFor {
            $0.contains("forward      \(forward) 127.0.0.1:\(port) → ")
                && $0.contains("DNS query A socksdeck.demo (id 0x")
                && $0.range(
                    of: #"DNS answer NOERROR A socksdeck\.demo: A 127\.0\.0\.9 \(id 0x[0-9a-f]{4}\) · RTT [0-9.]+ ms"#,
                    options: .regularExpression
                ) != nil
        }
        #expect(detail.found, "\(detail.screen)")
        // x on the forward's row stops it.
        t.send("z", "BTab", "BTab", "End", "x")
        let stopped = t.waitFor {
            $0.contains("stopped \(forward) 127.0.0.1:\(port)=") && $0.contains("1 flow(s) served")
        }
        #expect(stopped.found, "\(stopped.screen)")
        t.send("q")
    }

    /// Issue 28 at 40 columns: the key hints are whole (the screen's last cell cannot be written,
    /// so a hint that would reach it is left out rather than cut), and a server named with an
    /// escape sequence shows it with U+FFFD: the sequence never reaches the terminal (it would clear
    /// the screen).
    @Test func atFortyColumnsHintsAreWholeAndAControlInANameIsShown() throws {
        let config = try CLITests.writeConfig(
            """
            [[server]]
            name = "evil\\u001B[2Jname"
            address = "127.0.0.1:9"
            """
        )
        let t = try TmuxSession(
            width: 40,
            height: 12,
            arguments: ["--config", config],
            environment: ["XDG_CONFIG_HOME": try makeTemporaryDirectory("tuixdg")]
        )
        defer { t.kill() }
        let named = t.waitFor("│evil\u{FFFD}[2Jname ")
        #expect(named.found, "\(named.screen)")
        func statusRow(_ screen: String) -> String {
            let rows = screen.split(separator: "\n", omittingEmptySubsequences: false)
            return rows.count >= 12 ? String(rows[11]) : ""
        }
        for pane in [PaneID.servers, .associations] {
            let hints = KeyTable.hints(for: pane)
            let screen = t.waitFor { statusRow($0).hasPrefix(" " + hints[0] + "  ") }
            let status = statusRow(screen.screen)
            let shown = status.trimmingCharacters(in: .whitespaces).components(separatedBy: "  ")
            #expect(screen.found && shown.count >= 2, "\(pane): \(screen.screen)")
            #expect(shown == Array(hints.prefix(shown.count)) && !status.contains("…"), "\(pane): '\(status)'")
            t.send("Tab")
        }
        t.send("q")
    }

    /// Issue 28: removing a closed row keeps what its server showed; demo still says UDP works.
    @Test func removingAClosedRowKeepsTheServersCapability() throws {
        let t = try TmuxSession.demo()
        defer { t.kill() }
        #expect(t.waitFor("demo-nowhere").found)
        t.send("Enter")
        #expect(t.waitFor("1 associated of 1").found, "\(t.capture())")
        t.send("x")
        #expect(t.waitFor("#1 closed: closed by the user").found, "\(t.capture())")
        t.send("x")
        let removed = t.waitFor("removed #1 (closed) from the list")
        #expect(removed.found && removed.screen.contains("0 associated of 0"), "\(removed.screen)")
        let demo = removed.screen.split(separator: "\n").first { $0.hasPrefix("│demo ") } ?? ""
        #expect(demo.contains("UDP works") && !demo.contains("untried"), "\(removed.screen)")
        t.send("q")
    }

    @Test func badForwardSpecsAreRefusedWithForwardSpecsWords() throws {
        let bad = try CLITests.run(["ui", "--demo", "127.0.0.1:0=127.0.0.1:53"])
        #expect(bad.status == 64, "\(bad.output)")
        #expect(
            bad.output.contains("LOCAL=TARGET '127.0.0.1:0=127.0.0.1:53': LOCAL '127.0.0.1:0' has port 0"),
            "\(bad.output)"
        )
        let lonely = try CLITests.run(["ui", "--demo", "--forward-server", "demo"])
        #expect(lonely.status == 64 && lonely.output.contains("give at least one"), "\(lonely.output)")
    }

    /// The theme chosen with t is the next start's; under --no-color, t says colours are off.
    @Test func theThemeIsRememberedAndNoColorSaysSo() throws {
        let xdg = try makeTemporaryDirectory("tuixdg")
        do {
            let t = try TmuxSession(arguments: ["--demo"], environment: ["XDG_CONFIG_HOME": xdg])
            defer { t.kill() }
            #expect(t.waitFor("theme default").found, "a new user's first theme is default: \(t.capture())")
            t.send("t")
            let changed = t.waitFor("theme: ")
            let name = changed.screen.range(of: #"theme: [a-z-]+"#, options: .regularExpression).map {
                String(changed.screen[$0].dropFirst(7))
            }
            try #require(name != nil && name != "default", "\(changed.screen)")
            t.send("q")
            let deadline = Date().addingTimeInterval(5)
            while (try? String(contentsOfFile: xdg + "/socksdeck/last-theme", encoding: .utf8)) == nil
                && Date() < deadline
            {
                usleep(50_000)
            }
            let again = try TmuxSession(arguments: ["--demo"], environment: ["XDG_CONFIG_HOME": xdg])
            defer { again.kill() }
            let screen = again.waitFor("theme \(name!) ")
            #expect(screen.found, "the theme chosen last time: \(screen.screen)")
            again.send("q")
        }
        let mono = try TmuxSession(arguments: ["--demo", "--no-color"], environment: ["XDG_CONFIG_HOME": xdg])
        defer { mono.kill() }
        #expect(mono.waitFor("theme monochrome").found, "\(mono.capture())")
        mono.send("t")
        #expect(mono.waitFor("colours are off (--no-color)").found, "\(mono.capture())")
        mono.send("q")
    }

    /// --open opens a load through the first server before the UI starts, and --probe-opened
    /// probes each: the header counts them and the rows show probe RTTs.
    @Test func openALoadThroughTheFirstServer() throws {
        let peers = try TestPeers.shared()
        let config = try CLITests.writeConfig(
            """
            [[server]]
            name = "dante"
            address = "127.0.0.1:\(peers.danteNoAuth.port)"
            echo = "127.0.0.1:\(peers.echo.port)"
            """
        )
        let t = try TmuxSession(arguments: ["--config", config, "--open", "12", "--probe-opened"])
        defer { t.kill() }
        #expect(t.waitFor("12 associated of 12", seconds: 15).found, "\(t.capture())")
        #expect(t.waitFor("probing 127.0.0.1:\(peers.echo.port)").found, "\(t.capture())")
        t.send("q")
    }

    @Test func badLoadOptionsAreRefusedWithASentence() throws {
        let zero = try CLITests.run(["ui", "--demo", "--open", "0"])
        #expect(zero.status != 0 && zero.output.contains("--open takes a count from 1 to 5000"), "\(zero.output)")
        let lonely = try CLITests.run(["ui", "--demo", "--probe-opened"])
        #expect(lonely.status != 0 && lonely.output.contains("give --open COUNT"), "\(lonely.output)")
    }

    @Test func againstDanteWithAPasswordThatNeverShowsAndDanteStopped() throws {
        let peers = try TestPeers.shared()
        let dante = try DanteServer(configuration: "sockd-noauth.conf")
        let config = try CLITests.writeConfig(
            """
            [[server]]
            name = "dante-local"
            address = "127.0.0.1:\(dante.port)"
            echo = "127.0.0.1:\(peers.echo.port)"

            [[server]]
            name = "dante-auth"
            address = "127.0.0.1:\(peers.danteUserPass.port)"
            username = "\(TestPeers.username)"
            password_env = "TUI_TEST_PASSWORD"

            [[server]]
            name = "microsocks"
            address = "127.0.0.1:\(peers.microsocksPort)"
            """
        )
        let t = try TmuxSession(
            arguments: ["--config", config],
            environment: ["TUI_TEST_PASSWORD": TestPeers.password]
        )
        defer {
            t.kill()
            dante.stop()
        }
        #expect(t.waitFor("dante-auth").found, "\(t.capture())")
        t.send("Enter")
        #expect(t.waitFor("1 associated of 1").found, "\(t.capture())")
        // The authenticated one too.
        t.send("BTab")
        t.send("Down", "Enter")
        #expect(t.waitFor("user \(TestPeers.username)").found)
        let two = t.waitFor("2 associated of 2")
        #expect(two.found, "\(two.screen)")
        // microsocks: REP 7, decoded.
        t.send("BTab")
        t.send("Down", "Enter")
        #expect(t.waitFor("S5_EOPNOTSUPP").found, "\(t.capture())")
        // Dante stopped under the first association: closed, with the reason.
        dante.stop()
        let closed = t.waitFor("the server closed the control connection", seconds: 5)
        #expect(closed.found, "\(closed.screen)")
        #expect(!t.capture().contains(TestPeers.password))
        t.send("q")
    }

    /// Idle CPU with the demo open: the figure goes in the notes; the assertion only guards
    /// against a busy loop (a tenth of a core), not a benchmark.
    @Test func idleCPUIsSmall() throws {
        let t = try TmuxSession.demo()
        defer { t.kill() }
        #expect(t.waitFor("demo-nowhere").found)
        let pid = try #require(t.programPID)
        func cpuTicks() -> Double {
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
            return fields.count > 12 ? (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0) : 0
        }
        let start = cpuTicks()
        Thread.sleep(forTimeInterval: 5)
        let share = (cpuTicks() - start) / Double(sysconf(Int32(_SC_CLK_TCK))) / 5
        print("TUI idle CPU share over 5 s: \(String(format: "%.2f", share * 100)) % of a core")
        #expect(share < 0.10)
        t.send("q")
    }
}
