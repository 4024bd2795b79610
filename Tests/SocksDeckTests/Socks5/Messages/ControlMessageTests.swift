import Testing

@testable import Socks5

/// The exact bytes of every control message (RFC 1928 sections 3 to 6, RFC 1929).
@Suite struct ControlMessageTests {
    @Test func greetingOffersTheGivenMethods() {
        #expect(ClientGreeting(methods: [.noAuthentication]).encoded() == [0x05, 0x01, 0x00])
        #expect(ClientGreeting(methods: [.noAuthentication, .usernamePassword]).encoded() == [0x05, 0x02, 0x00, 0x02])
    }

    @Test func methodSelectionParses() throws {
        let r = try [UInt8]([0x05, 0x02]).withUnsafeBytes { try MethodSelection.parse($0) }
        #expect(r == .complete(MethodSelection(method: .usernamePassword), consumed: 2))
        let partial = try [UInt8]([0x05]).withUnsafeBytes { try MethodSelection.parse($0) }
        #expect(partial == .incomplete(totalLength: 2))
    }

    @Test func methodSelectionRejectsAnotherVersion() {
        #expect(throws: ProtocolViolation.wrongVersion(expected: 5, got: 4)) {
            try [UInt8]([0x04, 0x00]).withUnsafeBytes { try MethodSelection.parse($0) }
        }
    }

    @Test func usernamePasswordRequestBytes() {
        let c = Credentials(username: "ab", password: "xyz")!
        #expect(UsernamePasswordRequest(credentials: c).encoded() == [0x01, 0x02, 0x61, 0x62, 0x03, 0x78, 0x79, 0x7A])
    }

    @Test func credentialsRespectRFC1929Limits() {
        #expect(Credentials(username: "", password: "p") == nil)
        #expect(Credentials(username: "u", password: String(repeating: "p", count: 256)) == nil)
        #expect(Credentials(username: String(repeating: "u", count: 255), password: "p") != nil)
    }

    @Test func credentialsNeverPrintThePassword() {
        let c = Credentials(username: "alice", password: "s3cret-pw")!
        #expect(!"\(c)".contains("s3cret-pw"))
        #expect(!String(reflecting: c).contains("s3cret-pw"))
        var dumped = ""
        dump(c, to: &dumped)
        #expect(!dumped.contains("s3cret-pw") && !dumped.contains("115"), "no password, not even as bytes: \(dumped)")
        #expect("\(c)".contains("alice"))
    }

    @Test func usernamePasswordReplyParses() throws {
        let ok = try [UInt8]([0x01, 0x00]).withUnsafeBytes { try UsernamePasswordReply.parse($0) }
        #expect(ok == .complete(UsernamePasswordReply(status: 0), consumed: 2))
        let no = try [UInt8]([0x01, 0x01]).withUnsafeBytes { try UsernamePasswordReply.parse($0) }
        guard case .complete(let reply, _) = no else {
            Issue.record("incomplete")
            return
        }
        #expect(!reply.succeeded)
        #expect(throws: ProtocolViolation.wrongVersion(expected: 1, got: 5)) {
            try [UInt8]([0x05, 0x00]).withUnsafeBytes { try UsernamePasswordReply.parse($0) }
        }
    }

    @Test func requestBytesForEveryAddressType() {
        let v4 = SOCKSRequest(command: .udpAssociate, address: .unspecified(.ipv4))
        #expect(v4.encoded() == [0x05, 0x03, 0x00, 0x01, 0, 0, 0, 0, 0, 0])
        let v6 = SOCKSRequest(command: .udpAssociate, address: .unspecified(.ipv6))
        #expect(v6.encoded() == [0x05, 0x03, 0x00, 0x04] + [UInt8](repeating: 0, count: 16) + [0, 0])
        let connect = SOCKSRequest(command: .connect, address: .ip(IPEndpoint("192.0.2.1:80")!))
        #expect(connect.encoded() == [0x05, 0x01, 0x00, 0x01, 192, 0, 2, 1, 0x00, 0x50])
        let v6Target = SOCKSRequest(command: .bind, address: .ip(IPEndpoint("[2001:db8::1]:1080")!))
        #expect(
            v6Target.encoded() == [0x05, 0x02, 0x00, 0x04, 0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11)
                + [1, 0x04, 0x38]
        )
        let name = SOCKSRequest(command: .connect, address: .domain(DomainName("ex.org")!, port: 443))
        #expect(name.encoded() == [0x05, 0x01, 0x00, 0x03, 6] + Array("ex.org".utf8) + [0x01, 0xBB])
    }

    @Test func domainNamesAreOneTo255BytesWithoutNUL() {
        #expect(DomainName("") == nil)
        #expect(DomainName(String(repeating: "a", count: 256)) == nil)
        #expect(DomainName("a\u{0}b") == nil)
        #expect(DomainName(String(repeating: "a", count: 255))?.bytes.count == 255)
    }

    static let replies: [([UInt8], SOCKSAddress)] = [
        ([0x05, 0x00, 0x00, 0x01, 127, 0, 0, 1, 0x1F, 0x90], .ip(IPEndpoint("127.0.0.1:8080")!)),
        ([0x05, 0x00, 0x00, 0x04] + [UInt8](repeating: 0, count: 15) + [1, 0x00, 0x35], .ip(IPEndpoint("[::1]:53")!)),
        ([0x05, 0x00, 0x00, 0x03, 4] + Array("host".utf8) + [0x00, 0x07], .domain(DomainName("host")!, port: 7)),
    ]

    static let violations: [([UInt8], ProtocolViolation)] = [
        ([0x04, 0x5A, 0x00, 0x01], .wrongVersion(expected: 5, got: 4)),
        ([0x05, 0x00, 0x00, 0x02, 1, 2, 3, 4, 0, 0], .unknownAddressType(2)),
        ([0x05, 0x00, 0x00, 0x05], .unknownAddressType(5)),
        ([0x05, 0x00, 0x00, 0xFF], .unknownAddressType(0xFF)),
        ([0x05, 0x00, 0x00, 0x00], .unknownAddressType(0)),
        ([0x05, 0x00, 0x00, 0x03, 0, 0, 80], .emptyDomainName),
        ([0x05, 0x00, 0x00, 0x03, 2, 0x61, 0x00, 0, 80], .domainNameWithNUL),
    ]

    @Test(arguments: replies)
    func replyParsesEveryAddressType(bytes: [UInt8], bound: SOCKSAddress) throws {
        let r = try bytes.withUnsafeBytes { try SOCKSReply.parse($0) }
        #expect(r == .complete(SOCKSReply(reply: .succeeded, boundAddress: bound), consumed: bytes.count))
        // Every shorter prefix is incomplete and asks for at most the bytes still missing.
        for n in 0..<bytes.count {
            let partial = try Array(bytes[0..<n]).withUnsafeBytes { try SOCKSReply.parse($0) }
            guard case .incomplete(let total) = partial else {
                Issue.record("prefix \(n) parsed")
                continue
            }
            #expect(total > n && total <= bytes.count)
        }
        #expect(SOCKSReply(reply: .succeeded, boundAddress: bound).encoded() == bytes)
    }

    @Test func replyWithA255ByteDomainParses() throws {
        let name = [UInt8](repeating: 0x61, count: 255)
        let bytes: [UInt8] = [0x05, 0x00, 0x00, 0x03, 255] + name + [0, 1]
        let r = try bytes.withUnsafeBytes { try SOCKSReply.parse($0) }
        #expect(
            r
                == .complete(
                    SOCKSReply(reply: .succeeded, boundAddress: .domain(DomainName(bytes: name)!, port: 1)),
                    consumed: 262
                )
        )
    }

    @Test(arguments: violations)
    func replyRejectsViolations(bytes: [UInt8], violation: ProtocolViolation) {
        #expect(throws: violation) { try bytes.withUnsafeBytes { try SOCKSReply.parse($0) } }
    }

    @Test func replyCodesKeepUnassignedValues() throws {
        let r = try [UInt8]([0x05, 0x2A, 0x00, 0x01, 0, 0, 0, 0, 0, 0]).withUnsafeBytes { try SOCKSReply.parse($0) }
        guard case .complete(let reply, _) = r else {
            Issue.record()
            return
        }
        #expect(reply.reply.rawValue == 0x2A)
        #expect(!reply.reply.isAssigned)
    }
}
