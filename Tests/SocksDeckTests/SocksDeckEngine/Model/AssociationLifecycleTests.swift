import Foundation
import Socks5
import Testing

@testable import SocksDeckEngine

/// The association's state machine: the legal moves, the illegal ones refused, every step timed.
@Suite struct AssociationLifecycleTests {
    static let failure = AssociationFailure(.system(ECONNREFUSED, "connect"))

    @Test func theHandshakePathsAndTheirHistory() {
        let start = Date(timeIntervalSince1970: 1_000)
        var plain = AssociationLifecycle(at: start)
        for (i, next) in [ControlConnectionState.negotiating, .requesting, .associated, .closed(reason: "EOF")]
            .enumerated()
        {
            let moved1 = plain.move(to: next, at: start.addingTimeInterval(Double(i + 1)))
            #expect(moved1)
        }
        #expect(plain.history.map(\.state.name) == ["connecting", "negotiating", "requesting", "associated", "closed"])
        #expect(plain.history.map(\.since.timeIntervalSince1970) == [1_000, 1_001, 1_002, 1_003, 1_004])
        var auth = AssociationLifecycle()
        let moved2 = auth.move(to: .negotiating)
        #expect(moved2)
        let moved3 = auth.move(to: .authenticating)
        #expect(moved3)
        let moved4 = auth.move(to: .requesting)
        #expect(moved4)
        let moved5 = auth.move(to: .failed(Self.failure))
        #expect(moved5)
        #expect(auth.state.isFinal)
    }

    @Test func illegalMovesChangeNothing() {
        var l = AssociationLifecycle()
        let moved6 = l.move(to: .associated)  // no reply without a request
        #expect(!moved6)
        let moved7 = l.move(to: .requesting)
        #expect(!moved7)
        let moved8 = l.move(to: .connecting)  // no move to where it is
        #expect(!moved8)
        let moved9 = l.move(to: .negotiating)
        #expect(moved9)
        let moved10 = l.move(to: .negotiating)
        #expect(!moved10)
        let moved11 = l.move(to: .requesting)
        #expect(moved11)
        let moved12 = l.move(to: .associated)
        #expect(moved12)
        let moved13 = l.move(to: .failed(Self.failure))  // after the reply it ends by closing
        #expect(!moved13)
        let moved14 = l.move(to: .negotiating)
        #expect(!moved14)
        let moved15 = l.move(to: .closed(reason: "closed by the user"))
        #expect(moved15)
        // Nothing moves an ended association: a late EOF, a late failure.
        let moved16 = l.move(to: .closed(reason: "the server closed the control connection (EOF)"))
        #expect(!moved16)
        let moved17 = l.move(to: .failed(Self.failure))
        #expect(!moved17)
        #expect(l.state == .closed(reason: "closed by the user"))
        #expect(l.history.count == 5)
    }

    /// The user may close at any point before the reply too, and a connect may fail.
    @Test func endingBeforeTheReply() {
        var closing = AssociationLifecycle()
        let moved18 = closing.move(to: .closed(reason: "closed by the user"))
        #expect(moved18)
        var failing = AssociationLifecycle()
        let moved19 = failing.move(to: .failed(Self.failure))
        #expect(moved19)
        #expect(failing.history.map(\.state.name) == ["connecting", "failed"])
    }
}
