import Foundation
import Glibc
import Testing

@testable import Socks5

/// The pipelined handshake against real servers: each must read past the greeting.
@Suite(.tags(.peers), .needsPeers) struct PipeliningPeerTests {
    let pipelined = SOCKS5Options(timeoutMilliseconds: 3000, pipelining: true)

    @Test(arguments: [AddressFamily.ipv4, .ipv6])
    func danteAnswersAPipelinedAssociate(family: AddressFamily) throws {
        let peers = try TestPeers.shared()
        let association = try UDPAssociation.open(server: peers.server(family), options: pipelined)
        TestSockets.setReceiveTimeout(association.dataSocket, milliseconds: 3000)
        let payload = Array("pipelined through Dante".utf8)
        try association.send(payload, to: .ip(peers.echo.endpoint(family)))
        var buffer = [UInt8](repeating: 0, count: 2048)
        let d = try buffer.withUnsafeMutableBytes { try association.receive(into: $0) }
        #expect(Array(buffer[0..<d.length]) == payload)
    }

    /// microsocks answers the greeting and throws the pipelined request away with the rest of
    /// its read: the handshake ends at its bound (no hang), and the error says what happened.
    @Test func microsocksDropsAPipelinedRequestAndTheErrorSaysSo() throws {
        let peers = try TestPeers.shared()
        let start = Date()
        #expect {
            _ = try UDPAssociation.open(
                server: .loopback(.ipv4, peers.microsocksPort),
                options: SOCKS5Options(timeoutMilliseconds: 500, pipelining: true)
            )
        } throws: { error in
            guard let e = error as? SOCKS5Error else { return false }
            // The hint points at pipelining, not at a longer wait (issue 29).
            return e.systemError == ETIMEDOUT && e.description.contains("turn pipelining off")
                && !e.description.contains("Raise") && e.decoded.hint?.contains("no pipelining") == true
        }
        #expect(Date().timeIntervalSince(start) < 3)
        // Without pipelining the same server answers at once (REP 7: no UDP).
        #expect {
            _ = try UDPAssociation.open(
                server: .loopback(.ipv4, peers.microsocksPort),
                options: SOCKS5Options(timeoutMilliseconds: 500)
            )
        } throws: { ($0 as? SOCKS5Error)?.code == .commandNotSupported }
    }

    /// A CONNECT pipelined through Dante carries data afterwards: the reader stopped at the
    /// reply's end, even though it asked for more than the method selection at first.
    @Test func aPipelinedConnectLeavesTheTargetsBytesInTheSocket() throws {
        let peers = try TestPeers.shared()
        let target = TCPEchoServer()
        let fd = TestSockets.stream(.ipv4)
        defer { close(fd) }
        _ = try SOCKS5Client.connect(
            controlSocket: fd,
            server: peers.server(.ipv4),
            target: .ip(target.endpoint),
            options: pipelined
        )
        #expect(
            target.echoOnce(through: fd, Array("after a pipelined CONNECT".utf8))
                == Array("after a pipelined CONNECT".utf8)
        )
    }
}
