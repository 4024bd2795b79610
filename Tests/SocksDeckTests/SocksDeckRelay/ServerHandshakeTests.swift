import Socks5
import Testing

@testable import SocksDeckRelay

@Suite struct ServerHandshakeTests {
    let request: [UInt8] = [0x05, 0x03, 0x00, 0x01, 0, 0, 0, 0, 0, 0]

    @Test func noAuthenticationThenARequest() {
        var h = ServerHandshake(required: nil)
        #expect(h.receive([0x05, 0x01, 0x00]) == [.send([0x05, 0x00])])
        #expect(h.receive(request) == [.request(SOCKSRequest(command: .udpAssociate, address: .unspecified(.ipv4)))])
        #expect(h.state == .done)
    }

    @Test func everythingAtOnceAndOneByteAtATime() {
        var h = ServerHandshake(required: nil)
        let expected: [ServerHandshake.Action] = [
            .send([0x05, 0x00]), .request(SOCKSRequest(command: .udpAssociate, address: .unspecified(.ipv4))),
        ]
        #expect(h.receive([0x05, 0x01, 0x00] + request) == expected)
        var slow = ServerHandshake(required: nil)
        var actions: [ServerHandshake.Action] = []
        for b in [0x05, 0x01, 0x00] + request { actions += slow.receive([b]) }
        #expect(actions == expected)
    }

    @Test func usernamePasswordIsRequiredAndChecked() {
        let required = Credentials(username: "u", password: "pw")!
        var h = ServerHandshake(required: required)
        guard case .sendAndClose(let reply, _)? = h.receive([0x05, 0x01, 0x00]).first else {
            Issue.record()
            return
        }
        #expect(reply == [0x05, 0xFF])
        var ok = ServerHandshake(required: required)
        #expect(ok.receive([0x05, 0x02, 0x00, 0x02]) == [.send([0x05, 0x02])])
        #expect(ok.receive([0x01, 0x01, 0x75, 0x02, 0x70, 0x77]) == [.authenticated([0x01, 0x00], user: "u")])
        #expect(ok.user == "u")
        var bad = ServerHandshake(required: required)
        _ = bad.receive([0x05, 0x01, 0x02])
        guard case .sendAndClose(let no, let reason)? = bad.receive([0x01, 0x01, 0x75, 0x02, 0x70, 0x78]).first else {
            Issue.record()
            return
        }
        #expect(no == [0x01, 0x01])
        #expect(!reason.contains("px"))
    }

    @Test func anUnknownCommandGetsREP7() {
        var h = ServerHandshake(required: nil)
        _ = h.receive([0x05, 0x01, 0x00])
        guard case .sendAndClose(let reply, _)? = h.receive([0x05, 0x09, 0x00, 0x01, 1, 2, 3, 4, 0, 80]).first else {
            Issue.record()
            return
        }
        #expect(reply.prefix(2) == [0x05, 0x07])
    }

    @Test func garbageClosesWithoutAReply() {
        var h = ServerHandshake(required: nil)
        guard case .close? = h.receive([0x04, 0x01, 0x00, 0x50]).first else {
            Issue.record()
            return
        }
        var empty = ServerHandshake(required: nil)
        guard case .close? = empty.receive([0x05, 0x00]).first else {
            Issue.record()
            return
        }
    }

    @Test func constantTimeComparison() {
        #expect(ServerHandshake.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!ServerHandshake.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!ServerHandshake.constantTimeEqual([1, 2], [1, 2, 0]))
    }
}
