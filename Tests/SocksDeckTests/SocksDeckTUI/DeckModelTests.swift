import Foundation
import Socks5
import Testing

@testable import SocksDeckEngine
@testable import SocksDeckTUI

/// The model's derived state: what the servers pane tallies and when a frame counts as changed.
@Suite struct DeckModelTests {
    static let refused = AssociationFailure(
        SOCKS5Error(code: .commandNotSupported, replyByte: 7, command: .udpAssociate)
    )

    @Test func serverTalliesCountLiveAssociationsAndKeepTheNewestOutcome() {
        var m = ScreenTests.model()
        let dante = m.servers[0]
        let secure = m.servers[1]
        let noudp = m.servers[2]
        m.associations = [
            ScreenTests.snapshot(id: 1, server: "dante", state: .failed(Self.refused)),
            ScreenTests.snapshot(id: 2, server: "dante", state: .associated),
            ScreenTests.snapshot(id: 3, server: "dante", state: .connecting),
            ScreenTests.snapshot(id: 4, server: "noudp", state: .failed(Self.refused)),
        ]
        #expect(m.associationCount(of: dante) == 2)
        #expect(m.associationCount(of: noudp) == 0)
        #expect(m.associationCount(of: secure) == 0)
        // Connecting says nothing yet: the newest outcome through dante is #2's.
        #expect(m.capability(of: dante) == .udpWorks)
        #expect(m.capability(of: noudp) == .refused("REP 7: no UDP"))
        #expect(m.capability(of: secure) == .unknown)

        // New snapshots make new tallies: #3 was refused, #2 ended; #4's row is gone, and what it
        // showed of noudp stays known.
        m.associations = [
            ScreenTests.snapshot(id: 2, server: "dante", state: .closed(reason: "closed by the user")),
            ScreenTests.snapshot(id: 3, server: "dante", state: .failed(Self.refused)),
        ]
        #expect(m.associationCount(of: dante) == 0)
        #expect(m.capability(of: dante) == .refused("REP 7: no UDP"))
        #expect(m.capability(of: noudp) == .refused("REP 7: no UDP"))
    }

    @Test func aFrameOfTheSameModelLooksTheSame() {
        let m = ScreenTests.model()
        #expect(FrameSignature.UILook(m, height: 40, width: 120) == FrameSignature.UILook(m, height: 40, width: 120))
        let a = FrameSignature(m, height: 40, width: 120)
        let b = FrameSignature(m, height: 40, width: 120)
        #expect(a.associations == b.associations && a.eventCount == b.eventCount)
    }

    /// Each change a pane draws makes a new frame; a field left out of the signature would leave
    /// the screen stale until something else changed.
    @Test(arguments: [
        "message", "server address", "banner", "send form", "selection", "filter", "size", "findings", "checks waiting",
    ])
    func aChangeThePanesDrawMakesANewFrame(change: String) {
        let before = ScreenTests.model()
        var after = before
        var height = 40
        switch change {
        case "message": after.message = ("sent 1 datagram", .ok)
        case "server address": after.servers[0] = ServerDefinition(name: "dante", host: "127.0.0.1", port: 1090)
        case "banner": after.banner = "demo"
        case "send form": after.form = SendRequest(target: "127.0.0.1:7")
        case "selection": after.selectedAssociation = 1
        case "filter": after.filter = "noudp"
        case "size": height = 41
        case "findings": after.probeReports["dante"] = []
        case "checks waiting":
            after.checksWaiting[AssociationID(1)] = [.ntp(server: .ip(IPEndpoint("127.0.0.1:123")!))]
        default: Issue.record("no such change: \(change)")
        }
        #expect(
            FrameSignature.UILook(before, height: 40, width: 120)
                != FrameSignature.UILook(after, height: height, width: 120)
        )
    }

    @Test func aNewRevisionOfAnAssociationMakesANewFrame() {
        let before = ScreenTests.model()
        var after = before
        // The engine counts a revision per change; the screen compares revisions, not fields.
        after.associations[0].revision += 1
        #expect(
            FrameSignature(before, height: 40, width: 120).associations
                != FrameSignature(after, height: 40, width: 120).associations
        )
    }
}
