import CSocks5
import Foundation
import Testing

@testable import Socks5

/// Invalid arguments fail before any I/O, the way connect(2) would, with socks5_errno 0.
@Suite struct InvalidArgumentTests {
    let server = IPEndpoint("127.0.0.1:9")!

    private func call(
        _ fd: Int32,
        dst: UnsafePointer<sockaddr>?,
        _ dstLen: Int,
        svr: UnsafePointer<sockaddr>?,
        _ svrLen: Int
    ) -> (Int32, Int32, Int32) {
        errno = 0
        socks5_errno = -1
        let rc = socks5udp_associate(fd, dst, dstLen, svr, svrLen)
        return (rc, errno, socks5_errno)
    }

    private func withAddresses(_ body: (UnsafePointer<sockaddr>, UnsafePointer<sockaddr>) -> Void) {
        server.withSockaddr { svr, _ in
            IPEndpoint("0.0.0.0:0")!.withSockaddr { dst, _ in body(dst, svr) }
        }
    }

    @Test func nullAddressesAreEINVAL() {
        let fd = TestSockets.stream(.ipv4)
        defer { close(fd) }
        withAddresses { dst, svr in
            #expect(call(fd, dst: nil, 16, svr: svr, 16) == (-1, EINVAL, 0))
            #expect(call(fd, dst: dst, 16, svr: nil, 16) == (-1, EINVAL, 0))
        }
    }

    @Test func lengthsTooShortForTheFamilyAreEINVAL() {
        let fd = TestSockets.stream(.ipv4)
        defer { close(fd) }
        withAddresses { dst, svr in
            #expect(call(fd, dst: dst, 8, svr: svr, 16) == (-1, EINVAL, 0))
            #expect(call(fd, dst: dst, 16, svr: svr, 0) == (-1, EINVAL, 0))
        }
    }

    @Test func aFamilyOtherThanIPv4OrIPv6IsEAFNOSUPPORT() {
        let fd = TestSockets.stream(.ipv4)
        defer { close(fd) }
        var unix = sockaddr_un()
        unix.sun_family = sa_family_t(AF_UNIX)
        withUnsafePointer(to: &unix) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { u in
                withAddresses { dst, _ in
                    #expect(call(fd, dst: dst, 16, svr: u, MemoryLayout<sockaddr_un>.size) == (-1, EAFNOSUPPORT, 0))
                }
            }
        }
    }

    @Test func aDescriptorThatIsNotASocketIsENOTSOCK() {
        var fds: [Int32] = [0, 0]
        pipe(&fds)
        defer { for fd in fds { close(fd) } }
        withAddresses { dst, svr in
            #expect(call(fds[0], dst: dst, 16, svr: svr, 16) == (-1, ENOTSOCK, 0))
            #expect(call(-1, dst: dst, 16, svr: svr, 16) == (-1, EBADF, 0))
        }
    }

    @Test func aDatagramSocketAsControlConnectionIsEINVAL() {
        let fd = TestSockets.datagram(.ipv4)
        defer { close(fd) }
        withAddresses { dst, svr in #expect(call(fd, dst: dst, 16, svr: svr, 16) == (-1, EINVAL, 0)) }
    }

    @Test func aSocketOfAnotherFamilyThanTheServerIsEAFNOSUPPORT() {
        let fd = TestSockets.stream(.ipv6)
        defer { close(fd) }
        withAddresses { dst, svr in #expect(call(fd, dst: dst, 16, svr: svr, 16) == (-1, EAFNOSUPPORT, 0)) }
    }

    @Test(.tags(.peers), .needsPeers) func nothingListeningIsECONNREFUSEDWithS5Zero() throws {
        let peers = try TestPeers.shared()
        let fd = TestSockets.stream(.ipv4)
        defer { close(fd) }
        let r = CAPI.associate(socket: fd, dstFamily: .ipv4, server: .loopback(.ipv4, peers.closedPort))
        #expect(r.rc == -1 && r.errno == ECONNREFUSED && r.s5 == 0)
    }

    @Test func socks5StrerrorDecodesEveryCode() {
        #expect(String(cString: socks5_strerror(S5_EOPNOTSUPP)).contains("does not support"))
        #expect(String(cString: socks5_strerror(S5_EAUTH)).contains("rejected"))
        #expect(String(cString: socks5_strerror(1234)) == "unknown socks5_errno code")
        // Every code: its name and its own sentence, the catalogue's.
        var seen: Set<String> = []
        for code in SOCKS5ErrorCode.allCases {
            let sentence = String(cString: socks5_strerror(code.rawValue))
            let decoded = ErrorCatalogue.decode(s5: code.rawValue)
            #expect(sentence == "\(decoded.name): \(decoded.sentence)", "\(code)")
            #expect(sentence != "unknown socks5_errno code", "\(code)")
            seen.insert(sentence)
        }
        #expect(seen.count == SOCKS5ErrorCode.allCases.count)
        // The same pointer every time: static strings, nothing to free.
        #expect(socks5_strerror(7) == socks5_strerror(7))
    }
}
