import CSocks5
import Foundation
import Testing

@testable import Socks5

/// Bad input from a server never hangs or crashes: each case yields -1 with the documented errno
/// and socks5_errno through the C API, the same through the Swift API, within a bounded time,
/// and leaves no descriptor behind. Scripted servers produce the malformations; Dante covers the
/// well-formed paths (Integration/).
@Suite struct HostileServerTests {
    static let greeting = 3  // 05 01 00
    static let request = 10  // 05 03 00 01 0.0.0.0:0
    static let accept: [ScriptedServer.Step] = [.expect(greeting), .send([0x05, 0x00]), .expect(request)]

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var script: @Sendable () -> [ScriptedServer.Step]
        var errno: Int32
        var s5: Int32
        var testDescription: String { name }
    }

    static let cases: [Case] = {
        var all: [Case] = [
            Case(
                name: "method FF",
                script: { [.expect(greeting), .send([0x05, 0xFF])] },
                errno: EACCES,
                s5: S5_ENOMETHOD
            ),
            Case(
                name: "method not offered",
                script: { [.expect(greeting), .send([0x05, 0x02])] },
                errno: EPROTO,
                s5: S5_EBADMETHOD
            ),
            Case(
                name: "GSSAPI chosen unasked",
                script: { [.expect(greeting), .send([0x05, 0x01])] },
                errno: EPROTO,
                s5: S5_EBADMETHOD
            ),
            Case(
                name: "wrong version in method reply",
                script: { [.expect(greeting), .send([0x04, 0x00])] },
                errno: EPROTO,
                s5: S5_EBADREPLY
            ),
            Case(
                name: "wrong version in reply",
                script: { accept + [.send([0x04, 0x00, 0x00, 0x01, 127, 0, 0, 1, 0, 1])] },
                errno: EPROTO,
                s5: S5_EBADREPLY
            ),
            Case(
                name: "SOCKS4 answer",
                script: { accept + [.send([0x00, 0x5A, 0, 0, 0, 0, 0, 0])] },
                errno: EPROTO,
                s5: S5_EBADREPLY
            ),
            Case(
                name: "ATYP 2",
                script: { accept + [.send([0x05, 0x00, 0x00, 0x02, 127, 0, 0, 1, 0, 1])] },
                errno: EPROTO,
                s5: S5_EBADREPLY
            ),
            Case(
                name: "ATYP 5",
                script: { accept + [.send([0x05, 0x00, 0x00, 0x05, 127, 0, 0, 1, 0, 1])] },
                errno: EPROTO,
                s5: S5_EBADREPLY
            ),
            Case(
                name: "ATYP FF",
                script: { accept + [.send([0x05, 0x00, 0x00, 0xFF, 127, 0, 0, 1, 0, 1])] },
                errno: EPROTO,
                s5: S5_EBADREPLY
            ),
            Case(
                name: "domain BND of length 0",
                script: { accept + [.send([0x05, 0x00, 0x00, 0x03, 0, 0, 1])] },
                errno: EPROTO,
                s5: S5_EBADREPLY
            ),
            Case(
                name: "domain BND of length 255",
                script: {
                    accept + [.send([0x05, 0x00, 0x00, 0x03, 255] + [UInt8](repeating: 0x61, count: 255) + [0, 1])]
                },
                errno: EAFNOSUPPORT,
                s5: S5_EBNDDOMAIN
            ),
            // Cut short after the REP byte: that REP's code, not S5_ECLOSED (issue 29).
            Case(
                name: "shadowsocks' truncated REP 7",
                script: { accept + [.send([0x05, 0x07, 0x00, 0x01])] },
                errno: EOPNOTSUPP,
                s5: S5_EOPNOTSUPP
            ),
            Case(
                name: "REP 7 cut after 3 bytes",
                script: { accept + [.send([0x05, 0x07, 0x00])] },
                errno: EOPNOTSUPP,
                s5: S5_EOPNOTSUPP
            ),
            Case(
                name: "REP 2 cut after 2 bytes",
                script: { accept + [.send([0x05, 0x02])] },
                errno: EACCES,
                s5: S5_EPERM
            ),
            Case(
                name: "UDP ASSOCIATE granted with BND port 0",
                script: { accept + [.send([0x05, 0x00, 0x00, 0x01, 127, 0, 0, 1, 0, 0])] },
                errno: EPROTO,
                s5: S5_EBADREPLY
            ),
            Case(name: "close before any reply", script: { accept }, errno: EPROTO, s5: S5_ECLOSED),
            Case(name: "close before method selection", script: { [.expect(greeting)] }, errno: EPROTO, s5: S5_ECLOSED),
            Case(
                name: "reset mid-handshake",
                script: { [.expect(greeting), .send([0x05]), .reset] },
                errno: ECONNRESET,
                s5: 0
            ),
        ]
        let errnos: [Int32] = [
            0, EPROTO, EACCES, ENETUNREACH, EHOSTUNREACH, ECONNREFUSED, ETIMEDOUT, EOPNOTSUPP, EAFNOSUPPORT,
        ]
        for rep in 1...8 {
            all.append(
                Case(
                    name: "REP \(rep)",
                    script: { accept + [.send([0x05, UInt8(rep), 0x00, 0x01, 0, 0, 0, 0, 0, 0])] },
                    errno: errnos[rep],
                    s5: Int32(rep)
                )
            )
        }
        for rep: UInt8 in [9, 0x80, 0xFF] {
            all.append(
                Case(
                    name: "unassigned REP \(rep)",
                    script: { accept + [.send([0x05, rep, 0x00, 0x01, 0, 0, 0, 0, 0, 0])] },
                    errno: EPROTO,
                    s5: S5_EUNASSIGNED
                )
            )
        }
        let reply: [UInt8] = [0x05, 0x00, 0x00, 0x01, 127, 0, 0, 1, 0x9C, 0x40]
        for cut in 1..<reply.count {
            all.append(
                Case(
                    name: "reply cut after \(cut) bytes",
                    script: { accept + [.send(Array(reply[0..<cut]))] },
                    errno: EPROTO,
                    s5: S5_ECLOSED
                )
            )
        }
        all.append(
            Case(
                name: "method selection cut after 1 byte",
                script: { [.expect(greeting), .send([0x05])] },
                errno: EPROTO,
                s5: S5_ECLOSED
            )
        )
        return all
    }()

    @Test(arguments: cases)
    func cAPIReportsTheDocumentedErrors(_ c: Case) {
        let server = ScriptedServer(script: c.script())
        let before = TestSockets.openDescriptorCount()
        let fd = TestSockets.stream(.ipv4)
        let (outcome, seconds) = measure { CAPI.associate(socket: fd, dstFamily: .ipv4, server: server.endpoint) }
        close(fd)
        server.finish()
        #expect(outcome.rc == -1)
        #expect(outcome.errno == c.errno, "errno \(outcome.errno): \(String(cString: strerror(outcome.errno)))")
        #expect(outcome.s5 == c.s5)
        #expect(outcome.dst == IPEndpoint("0.0.0.0:0"), "Dst must be untouched on failure")
        #expect(seconds < 5)
        #expect(TestSockets.openDescriptorCount() <= before)
    }

    @Test(arguments: cases)
    func swiftAPIThrowsTheSameErrors(_ c: Case) {
        let server = ScriptedServer(script: c.script())
        let fd = TestSockets.stream(.ipv4)
        defer { close(fd) }
        do {
            _ = try SOCKS5Client.associateUDP(controlSocket: fd, server: server.endpoint, family: .ipv4)
            Issue.record("succeeded")
        } catch {
            #expect(error.systemError == c.errno)
            #expect(error.socks5Errno == c.s5)
            #expect(!error.description.isEmpty)
        }
        server.finish()
    }

    /// The error a UDP ASSOCIATE through the Swift API draws from a scripted server, or nil (and
    /// an issue recorded) when it succeeds.
    static func associationError(
        _ script: [ScriptedServer.Step],
        options: SOCKS5Options = SOCKS5Options()
    ) -> SOCKS5Error? {
        let server = ScriptedServer(script: script)
        defer { server.finish() }
        let fd = TestSockets.stream(.ipv4)
        defer { close(fd) }
        do throws(SOCKS5Error) {
            _ = try SOCKS5Client.associateUDP(
                controlSocket: fd,
                server: server.endpoint,
                family: .ipv4,
                options: options
            )
        } catch {
            return error
        }
        Issue.record("the association succeeded")
        return nil
    }

    /// The words of a reply cut after its REP byte, and of a BND port 0, say what happened.
    @Test func aCutShortReplyAndABNDPortZeroSayWhatHappened() {
        for (bytes, words) in [
            ([0x05, 0x07, 0x00] as [UInt8], "reply to UDP ASSOCIATE was cut short: REP 07, then EOF after 3 byte(s)"),
            ([0x05, 0x00, 0x00, 0x01, 127, 0, 0, 1, 0, 0], "BND port 0 (127.0.0.1:0), where no datagram can be sent"),
        ] {
            guard let error = Self.associationError(HostileServerTests.accept + [.send(bytes)]) else { continue }
            #expect(error.description.contains(words), "\(error)")
            #expect(!error.description.contains("Is this port really a SOCKS5 server"), "\(error)")
        }
    }

    /// A wrong password answered with a SOCKS5 reply (05 02 …) where the RFC 1929 status belongs:
    /// a refused login (S5_EAUTH, EACCES), in words that say the message was the wrong one.
    @Test func aLoginRefusedInAReplysShapeIsARefusedLogin() {
        let error = Self.associationError(
            [
                .expect(4), .send([0x05, 0x02]), .expect(2 + 1 + 1 + 5),
                .send([0x05, 0x02, 0x00, 0x01, 0, 0, 0, 0, 0, 0]),
            ],
            options: SOCKS5Options(credentials: Credentials(username: "u", password: "wrong")!)
        )
        #expect(error?.code == .authenticationFailed && error?.systemError == EACCES, "\(String(describing: error))")
        #expect(error?.description.contains("answered the login with a SOCKS5 reply (REP 02)") == true)
        #expect(error?.description.contains("Is this port really a SOCKS5 server") == false)
    }

    @Test func aReplyOneByteAtATimeSucceeds() throws {
        let server = ScriptedServer(script: [
            .expect(3), .sendSlowly([0x05, 0x00]), .expect(10),
            .sendSlowly([0x05, 0x00, 0x00, 0x01, 127, 0, 0, 1, 0x9C, 0x40]), .silent(seconds: 1),
        ])
        let fd = TestSockets.stream(.ipv4)
        defer { close(fd) }
        let r = CAPI.associate(socket: fd, dstFamily: .ipv4, server: server.endpoint)
        #expect(r.rc == 0)
        #expect(r.dst == IPEndpoint("127.0.0.1:40000"))
    }

    @Test func extraBytesAfterTheReplyAreLeftInTheSocket() throws {
        let server = ScriptedServer(
            script: HostileServerTests.accept + [
                .send([0x05, 0x00, 0x00, 0x01, 127, 0, 0, 1, 0x9C, 0x40, 0xAA, 0xBB]), .silent(seconds: 1),
            ]
        )
        let fd = TestSockets.stream(.ipv4)
        defer { close(fd) }
        let rendezvous = try SOCKS5Client.associateUDP(controlSocket: fd, server: server.endpoint, family: .ipv4)
        #expect(rendezvous.asUsed == IPEndpoint("127.0.0.1:40000"))
        var extra = [UInt8](repeating: 0, count: 4)
        TestSockets.setReceiveTimeout(fd, milliseconds: 1000)
        let n = recv(fd, &extra, 4, 0)
        #expect(Array(extra.prefix(max(n, 0))) == [0xAA, 0xBB])
    }

    @Test func anUnspecifiedBNDIsReplacedByTheServerAddress() throws {
        let server = ScriptedServer(
            script: HostileServerTests.accept + [
                .send([0x05, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0x10, 0x92]), .silent(seconds: 1),
            ]
        )
        let fd = TestSockets.stream(.ipv4)
        defer { close(fd) }
        let rendezvous = try SOCKS5Client.associateUDP(controlSocket: fd, server: server.endpoint, family: .ipv4)
        #expect(rendezvous.asReceived == .ip(IPEndpoint("0.0.0.0:4242")!))
        #expect(rendezvous.asUsed == IPEndpoint("127.0.0.1:4242"))
        #expect(rendezvous.replacedUnspecified)
    }

    @Test func anIPv6RendezvousThatDoesNotFitDstLenIsEINVALAndDstIsUntouched() {
        let v6Reply: [UInt8] = [0x05, 0x00, 0x00, 0x04] + [UInt8](repeating: 0, count: 15) + [1, 0x9C, 0x40]
        let server = ScriptedServer(script: HostileServerTests.accept + [.send(v6Reply), .silent(seconds: 1)])
        let fd = TestSockets.stream(.ipv4)
        defer { close(fd) }
        let r = CAPI.associate(
            socket: fd,
            dstFamily: .ipv4,
            dstLength: MemoryLayout<sockaddr_in>.size,
            server: server.endpoint
        )
        #expect(r.rc == -1 && r.errno == EINVAL && r.s5 == 0)
        #expect(r.dst == IPEndpoint("0.0.0.0:0"))
    }

    @Test(arguments: [AddressFamily.ipv4, .ipv6])
    func theRequestDeclaresTheAllZeroAddressOfDstsFamily(family: AddressFamily) {
        let request = family == .ipv4 ? 10 : 22
        let server = ScriptedServer(script: [
            .expect(3), .send([0x05, 0x00]), .expect(request), .send([0x05, 0x07, 0x00, 0x01, 0, 0, 0, 0, 0, 0]),
        ])
        let fd = TestSockets.stream(.ipv4)
        defer { close(fd) }
        _ = CAPI.associate(socket: fd, dstFamily: family, server: server.endpoint)
        server.finish()
        let expected: [UInt8] =
            family == .ipv4 ? [5, 3, 0, 1, 0, 0, 0, 0, 0, 0] : [5, 3, 0, 4] + [UInt8](repeating: 0, count: 18)
        #expect(server.received == [5, 1, 0] + expected)
    }

    @Test func aSilentServerTimesOutOnSORCVTIMEO() {
        let server = ScriptedServer(script: [.expect(3), .silent(seconds: 5)])
        let fd = TestSockets.stream(.ipv4)
        defer { close(fd) }
        TestSockets.setReceiveTimeout(fd, milliseconds: 300)
        let (r, seconds) = measure { CAPI.associate(socket: fd, dstFamily: .ipv4, server: server.endpoint) }
        #expect(r.rc == -1 && r.errno == ETIMEDOUT && r.s5 == 0)
        #expect(seconds >= 0.25 && seconds < 3)
    }

    /// Without SO_RCVTIMEO the C API applies SOCKS5_DEFAULT_TIMEOUT_MS (10 s): this test waits it out.
    @Test func aSilentServerTimesOutOnTheDefaultBound() {
        let server = ScriptedServer(script: [.expect(3), .silent(seconds: 12)])
        let fd = TestSockets.stream(.ipv4)
        defer { close(fd) }
        let (r, seconds) = measure { CAPI.associate(socket: fd, dstFamily: .ipv4, server: server.endpoint) }
        #expect(r.rc == -1 && r.errno == ETIMEDOUT && r.s5 == 0)
        #expect(
            seconds >= Double(SOCKS5_DEFAULT_TIMEOUT_MS) / 1000 - 0.1
                && seconds < Double(SOCKS5_DEFAULT_TIMEOUT_MS) / 1000 + 2
        )
    }

    @Test func aSilentServerTimesOutOnTheSwiftOptionBound() {
        let server = ScriptedServer(script: [.expect(3), .send([0x05, 0x00]), .expect(10), .silent(seconds: 5)])
        let fd = TestSockets.stream(.ipv4)
        defer { close(fd) }
        let (_, seconds) = measure {
            #expect(throws: SOCKS5Error.self) {
                try SOCKS5Client.associateUDP(
                    controlSocket: fd,
                    server: server.endpoint,
                    family: .ipv4,
                    options: SOCKS5Options(timeoutMilliseconds: 300)
                )
            }
        }
        #expect(seconds < 3)
    }

    @Test func aTricklingServerIsBoundedPerMessage() {
        // One byte every 150 ms: the 10-byte reply cannot finish within a 500 ms bound.
        let server = ScriptedServer(
            script: HostileServerTests.accept + [
                .send([0x05]), .silent(seconds: 0.15), .send([0x00]),
                .silent(seconds: 0.15), .send([0x00]), .silent(seconds: 0.15),
                .send([0x01]), .silent(seconds: 0.15), .send([127]), .silent(seconds: 2),
            ]
        )
        let fd = TestSockets.stream(.ipv4)
        defer { close(fd) }
        TestSockets.setReceiveTimeout(fd, milliseconds: 500)
        let (r, seconds) = measure { CAPI.associate(socket: fd, dstFamily: .ipv4, server: server.endpoint) }
        #expect(r.rc == -1 && r.errno == ETIMEDOUT)
        #expect(seconds < 2)
    }

    @Test func aWrongVersionInTheRFC1929ReplyIsMalformed() {
        let request = 3 + 9 + 9
        let error = Self.associationError(
            [.expect(4), .send([0x05, 0x02]), .expect(request), .send([0x05, 0x00])],
            options: SOCKS5Options(credentials: Credentials(username: "socksuser", password: "sockspass"))
        )
        #expect(error?.code == .malformedReply)
        #expect(error?.description.contains("sockspass") == false)
    }
}
