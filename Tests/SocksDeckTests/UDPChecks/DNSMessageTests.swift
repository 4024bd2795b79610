import Testing

@testable import UDPChecks

/// The DNS codec against dnsmasq's real answers, as captured on the wire.
@Suite struct DNSMessageTests {
    static func bytes(_ hex: String) -> [UInt8] {
        let digits = Array(hex.filter { !$0.isWhitespace })
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
    }

    static let question = "09736f636b736465636b 0474657374 00 0001 0001"

    @Test func aQueryIsTheBytesDnsmasqWasMeasuredWith() throws {
        let query = DNSQuery(id: 0x1234, name: "socksdeck.test", type: .a, ednsPayloadSize: nil)
        #expect(try query.encoded() == Self.bytes("1234 0100 0001 0000 0000 0000 " + Self.question))
        let edns = try DNSQuery(id: 0x1234, name: "socksdeck.test.", type: .aaaa).encoded()
        #expect(
            edns.count == 32 + 11 && Array(edns[10..<12]) == [0, 1]
                && Array(edns.suffix(11)) == Self.bytes("00 0029 04d0 00000000 0000")
        )
    }

    @Test func anAnswerWithACompressedNameParses() throws {
        let answer = Self.bytes(
            "1234 8580 0001 0001 0000 0000 " + Self.question + " c00c 0001 0001 0000003c 0004 7f000009"
        )
        let r = try DNSResponse.parse(answer)
        #expect(r.isResponse && r.authoritative && r.recursionAvailable && !r.truncated && r.responseCode == .noError)
        #expect(r.answers == [DNSRecord(name: "socksdeck.test", type: .a, ttl: 60, data: .ipv4([127, 0, 0, 9]))])
        #expect(r.problem(answering: DNSQuery(id: 0x1234, name: "SocksDeck.test.", type: .a)) == nil)
        #expect(
            r.problem(answering: DNSQuery(id: 0x1235, name: "socksdeck.test", type: .a))?.contains("transaction id")
                == true
        )
        #expect(
            r.problem(answering: DNSQuery(id: 0x1234, name: "other.test", type: .a))?.contains("the question is")
                == true
        )
    }

    @Test func nxdomainAndRefusedAreReadAsTheirCodes() throws {
        let nx = try DNSResponse.parse(Self.bytes("1235 8183 0001 0000 0000 0000 " + Self.question))
        #expect(nx.responseCode == .nxDomain && nx.responseCode.isAnswer && "\(nx.responseCode)" == "NXDOMAIN")
        let refused = try DNSResponse.parse(Self.bytes("1236 8185 0001 0000 0000 0000 " + Self.question))
        #expect("\(refused.responseCode)" == "REFUSED" && !refused.responseCode.isAnswer)
    }

    @Test func anEchoedQueryIsNotAnAnswer() throws {
        let query = DNSQuery(id: 7, name: "socksdeck.test", type: .a)
        let echoed = try DNSResponse.parse(try query.encoded())
        #expect(echoed.problem(answering: query)?.hasPrefix("QR is 0") == true)
    }

    @Test(arguments: [
        ("1234 8180 0001", "ends at byte"),
        ("1234 8180 0001 0000 0000 0000 c00c 0001 0001", "does not point backwards"),
        ("1234 8180 0001 0000 0000 0000 40 00 0001 0001", "label type 1"),
        ("1234 8180 0001 0001 0000 0000 00 0001 0001 00 0001 0001 0000003c 0008 7f000009", "ends at byte"),
    ])
    func hostileBytesEndInAnError(hex: String, words: String) {
        #expect {
            _ = try DNSResponse.parse(Self.bytes(hex))
        } throws: { error in
            "\(error)".contains(words)
        }
    }

    @Test func badNamesAreRefusedBeforeSending() {
        #expect(throws: DNSError.self) { try DNSQuery(id: 1, name: "a..b", type: .a).encoded() }
        #expect(throws: DNSError.self) {
            try DNSQuery(id: 1, name: String(repeating: "x", count: 64), type: .a).encoded()
        }
        #expect(
            DNSRecordType(name: "aaaa") == .aaaa && DNSRecordType(name: "TYPE65")?.rawValue == 65
                && DNSRecordType(name: "?") == nil
        )
    }
}

@Suite struct NTPPacketTests {
    /// The request and reply captured from chronyd.
    @Test func chronydsReplyGivesStratumReferenceAndTheFourTimestamps() throws {
        let transmit = NTPTimestamp(seconds: 0xeeb9_9962, fraction: 0xd410_c294)
        var request = NTPRequest(transmit: transmit)
        request.version = 4
        #expect(
            request.encoded().count == 48 && request.encoded()[0] == 0x23
                && Array(request.encoded()[40...]) == DNSMessageTests.bytes("eeb99962d410c294")
        )
        let reply = try NTPResponse.parse(
            DNSMessageTests.bytes(
                "24 0a 00 e7 00000000 00000000 7f7f0101 eeb9995f468f80c0 eeb99962d410c294 eeb999628f35acd1 eeb999628f3caf34"
            )
        )
        #expect(
            reply.mode == 4 && reply.stratum == 10 && reply.referenceText == "127.127.1.1" && reply.precision == -25
        )
        #expect(reply.problem(answering: request) == nil)
        #expect(
            reply.problem(answering: NTPRequest(transmit: NTPTimestamp(seconds: 1, fraction: 2)))?.contains("originate")
                == true
        )
        let (offset, delay) = reply.offsetAndDelay(
            sent: transmit,
            arrived: NTPTimestamp(seconds: 0xeeb9_9962, fraction: 0xa000_0000)
        )
        #expect(abs(delay) < 0.5 && abs(offset) < 0.5)
    }

    @Test func aKissOfDeathIsDecoded() throws {
        var bytes = [UInt8](repeating: 0, count: 48)
        bytes[0] = 0x24
        bytes.replaceSubrange(12..<16, with: Array("RATE".utf8))
        let kiss = try NTPResponse.parse(bytes)
        #expect(kiss.kissCode == "RATE")
        #expect(
            kiss.problem(answering: NTPRequest(transmit: NTPTimestamp(seconds: 0, fraction: 0)))?.hasPrefix(
                "kiss-o'-death RATE"
            ) == true
        )
        #expect(throws: NTPError.tooShort(47)) { try NTPResponse.parse(Array(bytes.prefix(47))) }
    }

    @Test func unixTimeRoundTrips() {
        let t = NTPTimestamp(unixTime: 1_764_633_600.25)
        #expect(abs(t.value - (1_764_633_600.25 + 2_208_988_800)) < 1e-6)
    }
}

@Suite struct STUNMessageTests {
    static let tid = Array(repeating: UInt8(0x11), count: 12)

    @Test func requestsAreTheMeasuredBytes() {
        #expect(
            STUNBindingRequest(transactionID: Self.tid).encoded() == DNSMessageTests.bytes("0001 0000 2112a442")
                + Self.tid
        )
        #expect(
            STUNBindingRequest(transactionID: Self.tid, changeIP: true, changePort: true).encoded()
                == DNSMessageTests.bytes("0001 0008 2112a442") + Self.tid + DNSMessageTests.bytes("0003 0004 00000006")
        )
    }

    /// A reply is picked by the transaction id at bytes 8 to 19 (the engine's checks and the NAT
    /// test ask the request); a fresh request's id is random.
    @Test func aReplyIsPickedByItsTransactionID() {
        let request = STUNBindingRequest(transactionID: Self.tid)
        let reply = DNSMessageTests.bytes("0101 0000 2112a442") + Self.tid
        #expect(request.isTransaction(of: reply))
        let other = DNSMessageTests.bytes("0101 0000 2112a442") + Array(repeating: 0, count: 12)
        #expect(!request.isTransaction(of: other))
        #expect(!request.isTransaction(of: Array(reply.prefix(19))))
        let a = STUNBindingRequest.random(changePort: true)
        let b = STUNBindingRequest.random()
        #expect(a.transactionID.count == 12 && a.transactionID != b.transactionID && a.changePort && !a.changeIP)
        #expect(a.isTransaction(of: a.encoded()) && !b.isTransaction(of: a.encoded()))
    }

    /// coturn's answer to 127.0.0.1:3478, captured, with its transaction id.
    @Test func coturnsAnswerGivesTheMappedOriginAndOtherAddresses() throws {
        let attributes =
            "0020 0008 0001 a439 5e12a443 0001 0008 0001 852b 7f000001 802b 0008 0001 0d96 7f000001 "
            + "802c 0008 0001 0d97 7f000002 8022 0014 436f7475726e2d342e362e312027476f72737427"
        let body = DNSMessageTests.bytes(attributes)
        let message =
            DNSMessageTests.bytes("0101") + [UInt8(body.count >> 8), UInt8(body.count & 0xFF)]
            + DNSMessageTests.bytes("2112a442") + Self.tid + body
        let r = try STUNResponse.parse(message)
        #expect(
            r.xorMappedAddress?.description == "127.0.0.1:34091" && r.mappedAddress?.description == "127.0.0.1:34091"
        )
        #expect(r.responseOrigin?.description == "127.0.0.1:3478" && r.otherAddress?.description == "127.0.0.2:3479")
        #expect(r.software == "Coturn-4.6.1 'Gorst'")
        #expect(r.problem(answering: STUNBindingRequest(transactionID: Self.tid)) == nil)
        #expect(r.problem(answering: STUNBindingRequest(transactionID: Array(repeating: 0, count: 12))) != nil)
    }

    @Test(arguments: [
        ("0101 0000 2112a442", "a 20-byte header"),
        ("0101 0000 00000000 111111111111111111111111", "no magic cookie"),
        ("0001 0000 2112a442 111111111111111111111111", "a Binding request, not a response: an echo?"),
        ("0101 0008 2112a442 111111111111111111111111 0020 0010 0001", "message length"),
        ("0101 0008 2112a442 111111111111111111111111 0020 0008 0001 a439", "runs past"),
        ("0101 000c 2112a442 111111111111111111111111 0020 0008 0003 a439 5e12a443 00000000", "address family 3"),
    ])
    func malformedResponsesAreRefused(hex: String, words: String) {
        #expect {
            _ = try STUNResponse.parse(DNSMessageTests.bytes(hex))
        } throws: { error in
            "\(error)".contains(words)
        }
    }

    @Test func theRetransmissionScheduleIsBounded() {
        let s = STUNRetransmission().schedule
        #expect(s.sends == [0, 500, 1500, 3500].map { .milliseconds($0) } && s.giveUp == .milliseconds(4500))
    }
}
