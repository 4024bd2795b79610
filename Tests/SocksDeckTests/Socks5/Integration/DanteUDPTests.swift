import CSocks5
import Foundation
import Testing

@testable import Socks5

/// UDP ASSOCIATE through a real Dante, through the Swift API: no-auth and username/password,
/// IPv4 and IPv6, datagrams round-tripped through a loopback echo target.
@Suite(.tags(.peers), .needsPeers) struct DanteUDPTests {
    /// Sends `payloads` one after another and returns what came back.
    private func roundTrip(
        _ association: borrowing UDPAssociation,
        to target: IPEndpoint,
        _ payloads: [[UInt8]]
    ) throws -> [[UInt8]] {
        TestSockets.setReceiveTimeout(association.dataSocket, milliseconds: 3000)
        var echoed: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        for payload in payloads {
            try association.send(payload, to: .ip(target))
            let d = try buffer.withUnsafeMutableBytes { try association.receive(into: $0) }
            #expect(d.sender == .ip(target))
            echoed.append(Array(buffer[0..<d.length]))
        }
        return echoed
    }

    @Test(arguments: [(AddressFamily.ipv4, AddressFamily.ipv4), (.ipv6, .ipv6), (.ipv4, .ipv6), (.ipv6, .ipv4)])
    func associateAndEchoWithoutAuthentication(serverFamily: AddressFamily, family: AddressFamily) throws {
        let peers = try TestPeers.shared()
        let association = try UDPAssociation.open(server: peers.server(serverFamily), family: family)
        // Dante answers with a concrete BND of the family that was declared.
        #expect(association.rendezvous.asUsed.family == family)
        #expect(association.rendezvous.asUsed.address.isLoopback)
        #expect(!association.rendezvous.replacedUnspecified)
        let payloads = (0..<20).map { i in Array("datagram \(i) via \(serverFamily)/\(family)".utf8) }
        #expect(try roundTrip(association, to: peers.echo.endpoint(family), payloads) == payloads)
    }

    @Test(arguments: [AddressFamily.ipv4, .ipv6])
    func associateWithUsernameAndPassword(family: AddressFamily) throws {
        let peers = try TestPeers.shared()
        let association = try UDPAssociation.open(
            server: peers.server(family, auth: true),
            options: SOCKS5Options(credentials: TestPeers.credentials)
        )
        #expect(
            try roundTrip(association, to: peers.echo.endpoint(family), [Array("authenticated".utf8)]) == [
                Array("authenticated".utf8)
            ]
        )
    }

    @Test func aWrongPasswordIsS5EAUTH() throws {
        let peers = try TestPeers.shared()
        #expect {
            _ = try UDPAssociation.open(
                server: peers.server(.ipv4, auth: true),
                options: SOCKS5Options(
                    credentials: Credentials(username: TestPeers.username, password: "wrong-password")
                )
            )
        } throws: { error in
            let e = error as! SOCKS5Error
            return e.code == .authenticationFailed && e.systemError == EACCES
                && !e.description.contains("wrong-password")
        }
    }

    @Test func noCredentialsForTheUserPassServerIsS5ENOMETHOD() throws {
        let peers = try TestPeers.shared()
        #expect {
            _ = try UDPAssociation.open(server: peers.server(.ipv4, auth: true))
        } throws: { error in
            (error as! SOCKS5Error).code == .noAcceptableMethod
        }
    }

    /// Every declaration policy works with Dante, over both families: the default declares the
    /// data socket's real port (the dual-stack socket sends IPv4 from that same port).
    @Test(arguments: DeclaredSource.allCases, [AddressFamily.ipv4, .ipv6])
    func everyDeclarationPolicyWorks(_ declare: DeclaredSource, _ family: AddressFamily) throws {
        let peers = try TestPeers.shared()
        let association = try UDPAssociation.open(server: peers.server(family), declare: declare)
        guard case .ip(let declared) = association.declaredSource else {
            Issue.record()
            return
        }
        #expect(declared.family == family)
        #expect((declared.port == 0) == (declare == .zero))
        #expect(declared.address.isUnspecified == (declare != .address))
        if declare != .zero { #expect(declared.port == IPEndpoint.local(of: association.dataSocket)?.port) }
        #expect(try roundTrip(association, to: peers.echo.endpoint(family), [[1, 2, 3]]) == [[1, 2, 3]])
    }

    @Test func payloadsFromEmptyTo65000BytesAreRelayed() throws {
        let peers = try TestPeers.shared()
        let association = try UDPAssociation.open(server: peers.server(.ipv4))
        let payloads: [[UInt8]] = [0, 1, 1200, 8192, 65_000].map { n in
            (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        }
        #expect(try roundTrip(association, to: peers.echo.endpoint(.ipv4), payloads) == payloads)
    }

    @Test func eachAssociationGetsItsOwnRelayPort() throws {
        let peers = try TestPeers.shared()
        let a = try UDPAssociation.open(server: peers.server(.ipv4))
        let b = try UDPAssociation.open(server: peers.server(.ipv4))
        #expect(a.rendezvous.asUsed.port != b.rendezvous.asUsed.port)
    }

    @Test func aDatagramFromAStrangerIsDroppedAndCounted() throws {
        let peers = try TestPeers.shared()
        let association = try UDPAssociation.open(server: peers.server(.ipv4))
        let local = TestSockets.localEndpoint(association.dataSocket)!
        // A stranger on loopback sends a well-formed datagram straight to our data socket.
        let stranger = TestSockets.datagram(.ipv4)
        defer { close(stranger) }
        var forged = [UInt8](repeating: 0, count: 16)
        let n = forged.withUnsafeMutableBytes {
            UDPDatagramHeader(address: .ip(peers.echo.endpoint(.ipv4))).write(into: $0)
        }
        _ = IPEndpoint.loopback(.ipv4, local.port).withSockaddr { sendto(stranger, forged, n + 4, 0, $0, $1) }
        usleep(50_000)
        try association.send(Array("genuine".utf8), to: .ip(peers.echo.endpoint(.ipv4)))
        var drops: [DatagramDropReason] = []
        var buffer = [UInt8](repeating: 0, count: 2048)
        TestSockets.setReceiveTimeout(association.dataSocket, milliseconds: 3000)
        let d = try buffer.withUnsafeMutableBytes { try association.receive(into: $0, dropped: { drops.append($0) }) }
        #expect(Array(buffer[0..<d.length]) == Array("genuine".utf8))
        #expect(drops == [.notFromRelay])
    }

    @Test func closingTheControlConnectionEndsTheAssociation() throws {
        let peers = try TestPeers.shared()
        let association = try UDPAssociation.open(server: peers.server(.ipv4))
        let relay = association.rendezvous.asUsed
        shutdown(association.controlSocket, Int32(SHUT_RDWR))
        usleep(300_000)
        // The relay port is closed at once: a connected UDP socket gets ECONNREFUSED (ICMP).
        let probe = TestSockets.datagram(.ipv4, receiveTimeoutMilliseconds: 1000)
        defer { close(probe) }
        _ = relay.withSockaddr { connect(probe, $0, $1) }
        var header = [UInt8](repeating: 0, count: 16)
        let n = header.withUnsafeMutableBytes {
            UDPDatagramHeader(address: .ip(peers.echo.endpoint(.ipv4))).write(into: $0)
        }
        _ = send(probe, header, n, 0)
        var byte: UInt8 = 0
        let r = recv(probe, &byte, 1, 0)
        #expect(r == -1 && errno == ECONNREFUSED)
    }

    @Test func openAndCloseLeaveNoDescriptorBehind() throws {
        let peers = try TestPeers.shared()
        let before = TestSockets.openDescriptorCount()
        for _ in 0..<100 {
            let a = try UDPAssociation.open(server: peers.server(.ipv4))
            a.close()
        }
        for _ in 0..<20 {
            #expect(throws: SOCKS5Error.self) {
                try UDPAssociation.open(server: .loopback(.ipv4, peers.microsocksPort))
            }
        }
        #expect(TestSockets.openDescriptorCount() == before)
    }
}

/// microsocks has no UDP relay: the S5_EOPNOTSUPP path, against a real server.
@Suite(.tags(.peers), .needsPeers) struct MicrosocksTests {
    @Test func udpAssociateIsREP7WithAHint() throws {
        let peers = try TestPeers.shared()
        let fd = TestSockets.stream(.ipv4)
        defer { close(fd) }
        do {
            _ = try SOCKS5Client.associateUDP(
                controlSocket: fd,
                server: .loopback(.ipv4, peers.microsocksPort),
                family: .ipv4
            )
            Issue.record("microsocks accepted UDP ASSOCIATE")
        } catch {
            #expect(error.code == .commandNotSupported)
            #expect(error.replyByte == 7)
            #expect(error.systemError == EOPNOTSUPP)
            #expect(error.decoded.hint?.contains("no UDP relay") == true)
        }
    }

    @Test func theCAPIGivesEOPNOTSUPP() throws {
        let peers = try TestPeers.shared()
        let fd = TestSockets.stream(.ipv4)
        defer { close(fd) }
        let r = CAPI.associate(socket: fd, dstFamily: .ipv4, server: .loopback(.ipv4, peers.microsocksPort))
        #expect(r.rc == -1 && r.errno == EOPNOTSUPP && r.s5 == S5_EOPNOTSUPP)
    }

    @Test func connectWorksThroughMicrosocks() throws {
        let peers = try TestPeers.shared()
        let target = TCPEchoServer()
        let fd = TestSockets.stream(.ipv4)
        defer { close(fd) }
        _ = try SOCKS5Client.connect(
            controlSocket: fd,
            server: .loopback(.ipv4, peers.microsocksPort),
            target: .ip(target.endpoint)
        )
        #expect(target.echoOnce(through: fd, Array("through microsocks".utf8)) == Array("through microsocks".utf8))
    }
}
