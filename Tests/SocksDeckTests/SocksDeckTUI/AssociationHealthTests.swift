import Foundation
import Socks5
import Testing

@testable import SocksDeckEngine
@testable import SocksDeckTUI

/// The STATE cell's colour says health: one function decides it for the Associations pane and
/// the Detail pane alike.
@Suite struct AssociationHealthTests {
    /// A fixed clock for the table: its probes' replies are dated from it.
    static let now = Date(timeIntervalSinceReferenceDate: 800_000_000)

    /// A running probe's summary: answering when `lastReply` (seconds from `now`) is recent,
    /// silent when it is old.
    static func probe(
        lost: Int = 0,
        lastReply: TimeInterval = -0.5,
        running: Bool = true,
        interval: Duration = .seconds(1),
        now: Date = now
    ) -> ProbeSummary {
        var p = ProbeSummary(target: "127.0.0.1:7")
        p.running = running
        p.interval = interval
        p.sent = 20
        p.lost = lost
        p.answered = 20 - lost
        p.rttP50 = .microseconds(400)
        p.lastReply = now.addingTimeInterval(lastReply)
        return p
    }

    static let refused = AssociationFailure(
        SOCKS5Error(code: .commandNotSupported, replyByte: 7, command: .udpAssociate)
    )

    @Test func theColourSaysHealth() {
        func a(
            _ state: ControlConnectionState,
            _ probe: ProbeSummary? = nil,
            closedBy: AssociationCloser? = nil
        )
            -> AssociationSnapshot
        {
            ScreenTests.snapshot(id: 1, server: "s", state: state, probe: probe, closedBy: closedBy)
        }
        let table: [(String, AssociationSnapshot, losing: Bool, Role)] = [
            ("associated, no probe", a(.associated), false, .ok),
            ("associated, answering", a(.associated, Self.probe()), false, .ok),
            ("associated, losing", a(.associated, Self.probe(lost: 2)), true, .warning),
            ("associated, lost long ago", a(.associated, Self.probe(lost: 2)), false, .ok),
            ("associated, silent", a(.associated, Self.probe(lastReply: -10)), false, .warning),
            // Silent means two of the probe's own intervals without an answer.
            ("1 s probe, 1.9 s since a reply", a(.associated, Self.probe(lastReply: -1.9)), false, .ok),
            ("1 s probe, 2.1 s since a reply", a(.associated, Self.probe(lastReply: -2.1)), false, .warning),
            (
                "5 s probe, 9 s since a reply", a(.associated, Self.probe(lastReply: -9, interval: .seconds(5))), false,
                .ok
            ),
            ("5 s probe, 11 s", a(.associated, Self.probe(lastReply: -11, interval: .seconds(5))), false, .warning),
            (
                "100 ms probe, 0.4 s", a(.associated, Self.probe(lastReply: -0.4, interval: .milliseconds(100))), false,
                .ok
            ),
            ("associated, probe stopped", a(.associated, Self.probe(lastReply: -60, running: false)), false, .ok),
            ("opening", a(.connecting), false, .warning),
            ("failed", a(.failed(Self.refused)), false, .error),
            ("closed by the server", a(.closed(reason: "EOF"), closedBy: .server), false, .error),
            ("closed by the user", a(.closed(reason: "closed by the user"), closedBy: .user), false, .muted),
            ("closed by SocksDeck", a(.closed(reason: "idle"), closedBy: .engine), false, .muted),
        ]
        for (what, snapshot, losing, role) in table {
            #expect(AssociationHealth.role(snapshot, losing: losing, now: Self.now) == role, "\(what)")
        }
    }

    /// A probe's loss counts as recent while its count grows and for `recentFor` after; the
    /// engine's count never goes down, so the count alone would colour the state for ever.
    @Test func aLossIsRecentForAWhileThenForgotten() {
        var a = ScreenTests.snapshot(id: 1, server: "s", state: .associated, probe: Self.probe())
        var losses = ProbeLosses()
        losses.update([a], now: Self.now)
        #expect(!losses.recent(a.id, now: Self.now))
        a.probe = Self.probe(lost: 1)
        losses.update([a], now: Self.now)
        #expect(losses.recent(a.id, now: Self.now.addingTimeInterval(ProbeLosses.recentFor - 1)))
        // The same count seen again later is no new loss.
        losses.update([a], now: Self.now.addingTimeInterval(5))
        #expect(!losses.recent(a.id, now: Self.now.addingTimeInterval(ProbeLosses.recentFor + 1)))
        a.probe = Self.probe(lost: 2)
        losses.update([a], now: Self.now.addingTimeInterval(30))
        #expect(losses.recent(a.id, now: Self.now.addingTimeInterval(31)))
        losses.update([], now: Self.now.addingTimeInterval(31))
        #expect(!losses.recent(a.id, now: Self.now.addingTimeInterval(31)))
    }

    /// Drawn: each row's STATE cell, and the Detail pane's state line, in the health's role.
    @Test func theStateCellAndTheDetailLineAreColouredByHealth() throws {
        var m = ScreenTests.model()
        let now = Date()
        m.associations = [
            ScreenTests.snapshot(id: 1, server: "dante", state: .associated, probe: Self.probe(now: now)),
            ScreenTests.snapshot(id: 2, server: "dante", state: .associated, probe: Self.probe(lost: 3, now: now)),
            ScreenTests.snapshot(
                id: 3,
                server: "dante",
                state: .associated,
                probe: Self.probe(lastReply: -10, now: now)
            ),
            ScreenTests.snapshot(id: 4, server: "dante", state: .closed(reason: "EOF"), closedBy: .server),
            ScreenTests.snapshot(id: 5, server: "dante", state: .closed(reason: "by you"), closedBy: .user),
            ScreenTests.snapshot(id: 6, server: "noudp", state: .failed(Self.refused)),
        ]
        m.focused = .servers
        let canvas = BufferCanvas(height: 35, width: 100)
        Screen.render(m, on: canvas)
        let lines = canvas.lines
        let header = try #require(lines.firstIndex { $0.contains("STATE") && $0.contains("RENDEZVOUS") })
        let x = try #require(lines[header].range(of: "STATE")).lowerBound.utf16Offset(in: lines[header])
        let expected: [Role] = [.ok, .warning, .warning, .error, .muted, .error]
        for (i, role) in expected.enumerated() {
            let y = try #require(lines.firstIndex { $0.hasPrefix("│#\(i + 1) ") }, "\(canvas.text)")
            #expect(canvas.role(y: y, x: x) == role, "#\(i + 1): \(lines[y])")
        }
        for (i, role) in expected.enumerated() {
            m.selectedAssociation = i
            let lines = DetailPane.lines(
                for: try #require(m.selectedAssociationSnapshot),
                width: 60,
                losing: m.probeLosses.recent(AssociationID(i + 1))
            )
            let state = try #require(lines.first { $0.0.hasPrefix("state ") })
            #expect(state.1 == role, "#\(i + 1): \(state.0)")
        }
    }

    /// When the pane is narrow, STATE, RTTms and LOSS stay: the age and the counters go first,
    /// then the rendezvous.
    @Test(arguments: [
        (100, ["ID", "SERVER", "RENDEZVOUS", "STATE", "RTTms", "LOSS", "SENT", "RECV", "DROP", "RATE", "AGE"]),
        (80, ["ID", "SERVER", "RENDEZVOUS", "STATE", "RTTms", "LOSS", "SENT", "RECV", "DROP"]),
        (60, ["ID", "SERVER", "RENDEZVOUS", "STATE", "RTTms", "LOSS"]),
        (40, ["ID", "SERVER", "STATE", "RTTms", "LOSS"]),
    ])
    func theHealthStaysWhenNarrow(width: Int, columns: [String]) throws {
        var m = ScreenTests.model()
        m.associations[0].probe = Self.probe(lost: 1, now: Date())
        m.focused = .associations
        let height = 24
        let canvas = BufferCanvas(height: height, width: width)
        let rect = try #require(Layout.compute(height: height, width: width, model: m).panes[.associations])
        Screen.render(m, on: canvas)
        let header = canvas.lines[rect.inner.y].split(whereSeparator: { $0 == " " || $0 == "│" }).map(String.init)
        #expect(header == columns, "\(canvas.text)")
        let row = try #require(canvas.lines.first { $0.hasPrefix("│#1 ") })
        #expect(row.contains("associated") && row.contains(" 0.40 ") && row.contains(" 5% "), "\(row)")
        ScreenTests.expectBoxIntact(canvas, rect, "associations at \(width)")
    }
}

/// What a server was seen to do stays known after the association that showed it is removed.
@Suite struct LearnedCapabilityTests {
    @Test func removingAClosedRowKeepsWhatItsServerShowed() {
        var m = ScreenTests.model()
        let dante = m.servers[0]
        let noudp = m.servers[2]
        #expect(m.capability(of: dante) == .udpWorks && m.capability(of: noudp) == .refused("REP 7: no UDP"))
        // #1 closed (with its rendezvous), then its row removed, and #2's failed row too.
        var closed = m.associations[0]
        closed.state = .closed(reason: "closed by the user")
        closed.closedBy = .user
        m.associations = [closed, m.associations[1]]
        #expect(m.capability(of: dante) == .udpWorks)
        m.associations = []
        #expect(m.capability(of: dante) == .udpWorks, "not 'untried' again")
        #expect(m.capability(of: noudp) == .refused("REP 7: no UDP"))
        // A newer outcome through the server replaces it; an older one left in the list does not.
        m.associations = [ScreenTests.snapshot(id: 3, server: "dante", state: .failed(AssociationHealthTests.refused))]
        #expect(m.capability(of: dante) == .refused("REP 7: no UDP"))
        m.associations = [ScreenTests.snapshot(id: 4, server: "dante", state: .associated)]
        m.associations = [ScreenTests.snapshot(id: 3, server: "dante", state: .failed(AssociationHealthTests.refused))]
        #expect(m.capability(of: dante) == .udpWorks)
        // One that says nothing (still opening, closed before the answer) teaches nothing.
        m.associations = [ScreenTests.snapshot(id: 5, server: "dante", state: .connecting)]
        #expect(m.capability(of: dante) == .udpWorks)
        // A server taken off the list is forgotten: a new one of that name is untried.
        m.learnedCapabilities.forget("dante")
        m.associations = []
        #expect(m.capability(of: dante) == .unknown)
    }

    /// The Servers pane draws it: after the rows went, the CAPABILITY cell still says so.
    @Test func theServersPaneKeepsTheCapability() {
        var m = ScreenTests.model()
        m.associations = []
        let canvas = BufferCanvas(height: 35, width: 120)
        Screen.render(m, on: canvas)
        let dante = canvas.lines.first { $0.hasPrefix("│dante ") } ?? ""
        #expect(dante.contains("UDP works") && !dante.contains("untried"), "\(canvas.text)")
    }
}

/// A new user's first theme, and the order `t` goes through them.
@Suite struct StartingThemeTests {
    static func library() -> ThemeLibrary {
        ThemeLibrary.load(userFolder: nil, environment: ["SOCKSDECK_THEMES": Repository.path("themes")])
    }

    @Test func aNewUserGetsDefaultAndTheSavedThemeStays() {
        let library = Self.library()
        #expect(library.startingTheme(remembered: nil).name == "default")
        #expect(library.startingTheme(remembered: "light").name == "light")
        #expect(library.startingTheme(remembered: "deleted-since").name == "default")
        // Without the shipped files, the built-in default.
        let bare = ThemeLibrary.load(userFolder: nil, environment: ["SOCKSDECK_THEMES": "/nonexistent/themes"])
        #expect(bare.startingTheme(remembered: nil) == .builtInDefault)
    }

    @Test func tGoesFromDefaultThroughTheShippedThemes() {
        #expect(
            Self.library().themes.map(\.name) == ["default", "dark", "high-contrast", "light", "monochrome"]
        )
        let bare = ThemeLibrary.load(userFolder: nil, environment: ["SOCKSDECK_THEMES": "/nonexistent/themes"])
        #expect(bare.themes.map(\.name) == ["default", "monochrome"])
    }
}
