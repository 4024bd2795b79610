import Glibc
import Testing

@testable import Socks5

@Suite struct ClientHandshakeTests {
    let rendezvousReply: [UInt8] = [0x05, 0x00, 0x00, 0x01, 127, 0, 0, 1, 0x9C, 0x40]

    @Test func noAuthenticationUDPAssociate() {
        var m = ClientHandshake(command: .udpAssociate, address: .unspecified(.ipv4))
        #expect(m.state == .idle)
        #expect(m.start() == .send([0x05, 0x01, 0x00]))
        #expect(m.state == .awaitingMethodSelection)
        #expect(m.pendingAction == .receive(2))
        #expect(m.receive([0x05, 0x00]) == .send([0x05, 0x03, 0x00, 0x01, 0, 0, 0, 0, 0, 0]))
        #expect(m.state == .awaitingReply)
        #expect(m.pendingAction == .receive(4))
        let reply = SOCKSReply(reply: .succeeded, boundAddress: .ip(IPEndpoint("127.0.0.1:40000")!))
        #expect(m.receive(rendezvousReply) == .established(reply))
        #expect(m.state == .established(reply))
        #expect(m.selectedMethod == .noAuthentication)
    }

    @Test func usernamePasswordSubNegotiation() {
        var m = ClientHandshake(
            command: .udpAssociate,
            address: .unspecified(.ipv4),
            credentials: Credentials(username: "u", password: "pw")!
        )
        #expect(m.start() == .send([0x05, 0x02, 0x00, 0x02]))
        #expect(m.receive([0x05, 0x02]) == .send([0x01, 0x01, 0x75, 0x02, 0x70, 0x77]))
        #expect(m.state == .awaitingAuthenticationReply)
        #expect(m.receive([0x01, 0x00]) == .send([0x05, 0x03, 0x00, 0x01, 0, 0, 0, 0, 0, 0]))
        #expect(m.state == .awaitingReply)
    }

    @Test func rejectedCredentialsFailWithS5EAUTH() {
        var m = ClientHandshake(
            command: .connect,
            address: .unspecified(.ipv4),
            credentials: Credentials(username: "u", password: "pw")!
        )
        _ = m.start()
        _ = m.receive([0x05, 0x02])
        guard case .failed(let e) = m.receive([0x01, 0x01]) else {
            Issue.record()
            return
        }
        #expect(e.code == .authenticationFailed)
        #expect(e.socks5Errno == 11)
        #expect(!e.description.contains("pw"))
    }

    @Test func replyArrivingOneByteAtATimeAsksForExactlyWhatIsMissing() {
        var m = ClientHandshake(command: .udpAssociate, address: .unspecified(.ipv4))
        _ = m.start()
        #expect(m.receive([0x05]) == .receive(1))
        _ = m.receive([0x00])
        var last: ClientHandshake.Action = .receive(0)
        for (i, byte) in rendezvousReply.enumerated() {
            last = m.receive([byte])
            if i < rendezvousReply.count - 1 {
                guard case .receive(let n) = last else {
                    Issue.record("byte \(i): \(last)")
                    return
                }
                #expect(n >= 1 && n <= rendezvousReply.count - i - 1)
            }
        }
        guard case .established = last else {
            Issue.record("\(last)")
            return
        }
    }

    @Test func bindReportsBothReplies() {
        var m = ClientHandshake(command: .bind, address: .ip(IPEndpoint("127.0.0.1:0")!))
        _ = m.start()
        _ = m.receive([0x05, 0x00])
        let first = SOCKSReply(reply: .succeeded, boundAddress: .ip(IPEndpoint("127.0.0.1:5000")!))
        #expect(m.receive(first.encoded()) == .bound(first))
        #expect(m.pendingAction == .receive(4))
        let second = SOCKSReply(reply: .succeeded, boundAddress: .ip(IPEndpoint("127.0.0.1:6000")!))
        #expect(m.receive(second.encoded()) == .established(second))
    }

    @Test(arguments: Array(1...8) + [9, 0x2A, 0xFF])
    func failureRepliesCarryTheirCode(rep: Int) {
        var m = ClientHandshake(command: .udpAssociate, address: .unspecified(.ipv4))
        _ = m.start()
        _ = m.receive([0x05, 0x00])
        guard case .failed(let e) = m.receive([0x05, UInt8(rep), 0x00, 0x01, 0, 0, 0, 0, 0, 0]) else {
            Issue.record()
            return
        }
        #expect(e.replyByte == UInt8(rep))
        #expect(e.socks5Errno == (rep <= 8 ? Int32(rep) : 13))
        #expect(e.command == .udpAssociate)
    }

    @Test func methodFFIsNoAcceptableMethod() {
        var m = ClientHandshake(command: .udpAssociate, address: .unspecified(.ipv4))
        _ = m.start()
        guard case .failed(let e) = m.receive([0x05, 0xFF]) else {
            Issue.record()
            return
        }
        #expect(e.code == .noAcceptableMethod)
        #expect(e.systemError == EACCES)
    }

    @Test func aMethodThatWasNotOfferedIsS5EBADMETHOD() {
        var m = ClientHandshake(command: .udpAssociate, address: .unspecified(.ipv4))
        _ = m.start()
        guard case .failed(let e) = m.receive([0x05, 0x02]) else {
            Issue.record()
            return
        }
        #expect(e.code == .methodNotOffered && e.systemError == EPROTO)
        #expect(e.detail?.contains("selected username/password (02)") == true, "\(e)")
        #expect(e.phase == .methodSelection)
        #expect(e.decoded.sentence.contains("did not offer"))
    }

    /// The hint for S5_ECLOSED follows where the server closed: after the greeting, after the
    /// password (how some servers refuse credentials), or at the reply.
    @Test func closingIsExplainedByWhereItHappened() {
        var atGreeting = ClientHandshake(command: .udpAssociate, address: .unspecified(.ipv4))
        _ = atGreeting.start()
        guard case .failed(let g) = atGreeting.receiveEndOfStream() else {
            Issue.record()
            return
        }
        #expect(g.phase == .methodSelection && g.decoded.hint?.contains("after the greeting") == true)
        #expect(g.decoded.sentence.contains("method selection"))

        var atPassword = ClientHandshake(
            command: .udpAssociate,
            address: .unspecified(.ipv4),
            credentials: Credentials(username: "u", password: "p")
        )
        _ = atPassword.start()
        _ = atPassword.receive([0x05, 0x02])
        guard case .failed(let p) = atPassword.receiveEndOfStream() else {
            Issue.record()
            return
        }
        #expect(p.phase == .authentication && p.decoded.hint?.contains("refuse credentials by closing") == true)

        var atReply = ClientHandshake(command: .udpAssociate, address: .unspecified(.ipv4))
        _ = atReply.start()
        _ = atReply.receive([0x05, 0x00])
        guard case .failed(let r) = atReply.receiveEndOfStream() else {
            Issue.record()
            return
        }
        #expect(r.phase == .reply && r.decoded.hint?.contains("commands they do not know") == true)
    }

    /// EOF after the REP byte: the server did answer, so its REP's code (a program can tell "no
    /// UDP" from "the server died"), the detail saying the reply was cut short (issue 29).
    @Test func endOfStreamAfterTheREPByteIsThatREPsCode() {
        var m = ClientHandshake(command: .udpAssociate, address: .unspecified(.ipv4))
        _ = m.start()
        _ = m.receive([0x05, 0x00])
        _ = m.receive([0x05, 0x07, 0x00, 0x01])
        guard case .failed(let e) = m.receiveEndOfStream() else {
            Issue.record()
            return
        }
        #expect(e.code == .commandNotSupported && e.systemError == EOPNOTSUPP && e.replyByte == 0x07)
        #expect(e.detail?.contains("was cut short: REP 07") == true && e.detail?.contains("05 07 00 01") == true)
        // A failed machine stays failed.
        #expect(m.receive([0x00]) == .failed(e))
    }

    /// EOF before the REP byte (or after a REP 00 whose address never came) is S5_ECLOSED, EPROTO
    /// (a truncated reply; ECONNRESET is kept for a real reset).
    @Test(arguments: [[], [0x05], [0x05, 0x00, 0x00, 0x01, 127]] as [[UInt8]])
    func endOfStreamBeforeAnAnswerIsS5ECLOSED(_ bytes: [UInt8]) {
        var m = ClientHandshake(command: .udpAssociate, address: .unspecified(.ipv4))
        _ = m.start()
        _ = m.receive([0x05, 0x00])
        if !bytes.isEmpty { _ = m.receive(bytes) }
        guard case .failed(let e) = m.receiveEndOfStream() else {
            Issue.record()
            return
        }
        #expect(e.code == .closedDuringHandshake && e.systemError == EPROTO, "\(e)")
    }
}
