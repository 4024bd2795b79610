import Testing

@testable import Socks5

/// The pipelined handshake: the request leaves with the greeting, and the method selection and
/// the reply may come back in any cut.
@Suite struct PipeliningTests {
    let greetingAndRequest: [UInt8] = [0x05, 0x01, 0x00, 0x05, 0x03, 0x00, 0x01, 0, 0, 0, 0, 0, 0]
    let selectionAndReply: [UInt8] = [0x05, 0x00, 0x05, 0x00, 0x00, 0x01, 127, 0, 0, 1, 0x9C, 0x40]
    let reply = SOCKSReply(reply: .succeeded, boundAddress: .ip(IPEndpoint("127.0.0.1:40000")!))

    @Test func theRequestLeavesWithTheGreeting() {
        var m = ClientHandshake(command: .udpAssociate, address: .unspecified(.ipv4), pipelining: true)
        #expect(m.pipelinesRequest)
        #expect(m.start() == .send(greetingAndRequest))
        // The selection and the reply's fixed part: never more than the shortest reply holds.
        #expect(m.pendingAction == .receive(7))
    }

    @Test(arguments: 1...11)
    func everyCutOfTheAnswerEstablishes(cut: Int) {
        var m = ClientHandshake(command: .udpAssociate, address: .unspecified(.ipv4), pipelining: true)
        _ = m.start()
        let first = m.receive(selectionAndReply[..<cut])
        guard case .receive(let n) = first else {
            Issue.record("after \(cut) bytes: \(first)")
            return
        }
        #expect(n >= 1 && n <= selectionAndReply.count - cut)
        #expect(m.receive(selectionAndReply[cut...]) == .established(reply))
        #expect(m.selectedMethod == .noAuthentication)
    }

    @Test func allInOneReadEstablishes() {
        var m = ClientHandshake(command: .udpAssociate, address: .unspecified(.ipv4), pipelining: true)
        _ = m.start()
        #expect(m.receive(selectionAndReply) == .established(reply))
    }

    @Test func noAcceptableMethodStillFailsAsS5ENOMETHOD() {
        var m = ClientHandshake(command: .udpAssociate, address: .unspecified(.ipv4), pipelining: true)
        _ = m.start()
        guard case .failed(let e) = m.receive([0x05, 0xFF]) else {
            Issue.record()
            return
        }
        #expect(e.code == .noAcceptableMethod)
    }

    @Test func aMethodNotOfferedIsS5EBADMETHOD() {
        var m = ClientHandshake(command: .udpAssociate, address: .unspecified(.ipv4), pipelining: true)
        _ = m.start()
        guard case .failed(let e) = m.receive([0x05, 0x02]) else {
            Issue.record()
            return
        }
        #expect(e.code == .methodNotOffered)
    }

    @Test func credentialsTurnPipeliningOff() {
        var m = ClientHandshake(
            command: .udpAssociate,
            address: .unspecified(.ipv4),
            credentials: Credentials(username: "u", password: "pw")!,
            pipelining: true
        )
        #expect(!m.pipelinesRequest)
        #expect(m.start() == .send([0x05, 0x02, 0x00, 0x02]))
    }
}
