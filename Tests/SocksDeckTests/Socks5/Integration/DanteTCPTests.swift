import CSocks5
import Foundation
import Testing

@testable import Socks5

/// CONNECT and BIND through Dante, through the C entry points.
@Suite(.tags(.peers), .needsPeers) struct DanteTCPTests {
    @Test(arguments: [AddressFamily.ipv4, .ipv6])
    func socks5tcpConnectReachesTheTarget(family: AddressFamily) throws {
        let peers = try TestPeers.shared()
        let target = TCPEchoServer(family)
        let fd = TestSockets.stream(family)
        defer { close(fd) }
        var dst = sockaddr_storage()
        var svr = sockaddr_storage()
        let dstLength = withUnsafeMutableBytes(of: &dst) { target.endpoint.write(to: $0.baseAddress!) }
        let svrLength = withUnsafeMutableBytes(of: &svr) { peers.server(family).write(to: $0.baseAddress!) }
        let rc = withUnsafeMutablePointer(to: &dst) { d in
            withUnsafeMutablePointer(to: &svr) { s in
                d.withMemoryRebound(to: sockaddr.self, capacity: 1) { dp in
                    s.withMemoryRebound(to: sockaddr.self, capacity: 1) { sp in
                        socks5tcp_connect(fd, dp, dstLength, sp, svrLength)
                    }
                }
            }
        }
        #expect(rc == 0, "errno \(errno) socks5_errno \(socks5_errno)")
        // Dst now holds the server's BND: Dante's outgoing address for the target.
        #expect(IPEndpoint(storage: dst)?.address.isLoopback == true)
        #expect(IPEndpoint(storage: svr) == peers.server(family))
        #expect(target.echoOnce(through: fd, Array("hello through Dante".utf8)) == Array("hello through Dante".utf8))
    }

    @Test func connectToAClosedPortIsS5ECONNREFUSED() throws {
        let peers = try TestPeers.shared()
        let fd = TestSockets.stream(.ipv4)
        defer { close(fd) }
        do {
            _ = try SOCKS5Client.connect(
                controlSocket: fd,
                server: peers.server(.ipv4),
                target: .ip(.loopback(.ipv4, peers.closedPort))
            )
            Issue.record("connected to a closed port")
        } catch {
            #expect(error.code == .connectionRefused && error.systemError == ECONNREFUSED)
        }
    }

    @Test func bindNotPermittedByDanteIsS5EPERM() throws {
        let peers = try TestPeers.shared()
        let fd = TestSockets.stream(.ipv4)
        defer { close(fd) }
        var dst = sockaddr_storage()
        var svr = sockaddr_storage()
        let dstLength = withUnsafeMutableBytes(of: &dst) { IPEndpoint("127.0.0.1:0")!.write(to: $0.baseAddress!) }
        let svrLength = withUnsafeMutableBytes(of: &svr) { peers.server(.ipv4).write(to: $0.baseAddress!) }
        let rc = withUnsafeMutablePointer(to: &dst) { d in
            withUnsafeMutablePointer(to: &svr) { s in
                d.withMemoryRebound(to: sockaddr.self, capacity: 1) { dp in
                    s.withMemoryRebound(to: sockaddr.self, capacity: 1) { sp in
                        socks5tcp_bind(fd, dp, dstLength, sp, svrLength)
                    }
                }
            }
        }
        #expect(rc == -1 && errno == EACCES && socks5_errno == S5_EPERM)
        #expect(IPEndpoint(storage: svr) == peers.server(.ipv4), "Svr untouched on failure")
    }
}
