import Testing

@testable import UDPChecks

/// The recogniser behind `socksdeck forward`'s decoded datagrams: real datagrams from the
/// module's encoders, answers written out by hand, and bytes that must not pass for any protocol.
@Suite struct ApplicationDatagramTests {
    static func bytes(_ hex: String) -> [UInt8] {
        let digits = Array(hex.filter { !$0.isWhitespace })
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16) ?? 0 }
    }

    static let demoQuestion = "0464656d6f 0474657374 00 0001 0001"
    static let opt = "00 0029 04d0 00000000 0000"
    static let transactionID: [UInt8] = Array(1...12)

    // MARK: DNS

    @Test func aQueryFromTheEncoderIsADNSQuery() throws {
        let query = try DNSQuery(id: 0x1A2B, name: "demo.test", type: .a).encoded()
        let datagram = ApplicationDatagram.recognise(query, port: 53)
        #expect(datagram == .dnsQuery(id: 0x1A2B, name: "demo.test", type: .a))
        #expect(datagram?.summary == "DNS query A demo.test (id 0x1a2b)")
        #expect(datagram?.isRequest == true)
        let other = try DNSQuery(id: 7, name: "x.test", type: DNSRecordType(rawValue: 65)).encoded()
        #expect(ApplicationDatagram.recognise(other, port: nil)?.summary == "DNS query TYPE65 x.test (id 0x0007)")
    }

    @Test func anAnswerGivesItsCodeAndRecordsAndPairsWithItsQuery() throws {
        let answer = Self.bytes(
            "1a2b 8180 0001 0001 0000 0001 " + Self.demoQuestion + " c00c 0001 0001 0000003c 0004 7f000001 " + Self.opt
        )
        let datagram = ApplicationDatagram.recognise(answer, port: nil)
        #expect(
            datagram
                == .dnsResponse(
                    id: 0x1A2B,
                    name: "demo.test",
                    type: .a,
                    code: .noError,
                    answers: ["A 127.0.0.1"],
                    answerCount: 1
                )
        )
        #expect(datagram?.summary == "DNS answer NOERROR A demo.test: A 127.0.0.1 (id 0x1a2b)")
        #expect(datagram?.isRequest == false)
        let query = ApplicationDatagram.recognise(
            try DNSQuery(id: 0x1A2B, name: "Demo.Test.", type: .a).encoded(),
            port: 53
        )
        #expect(datagram?.exchangeKey != nil && query?.exchangeKey == datagram?.exchangeKey)
        let otherType = ApplicationDatagram.recognise(
            try DNSQuery(id: 0x1A2B, name: "demo.test", type: .aaaa).encoded(),
            port: 53
        )
        #expect(otherType?.exchangeKey != datagram?.exchangeKey)
    }

    @Test func cnameAAAAAndUnknownRecordsAreWordsAndSizes() {
        // www.demo.test AAAA: a CNAME to demo.test (a pointer into the question), ::1, and an HTTPS record.
        let answer = Self.bytes(
            "0001 8180 0001 0003 0000 0000 03777777 0464656d6f 0474657374 00 001c 0001"
                + " c00c 0005 0001 0000003c 0002 c010"
                + " c010 001c 0001 0000003c 0010 00000000000000000000000000000001"
                + " c010 0041 0001 0000003c 0003 000100"
        )
        let datagram = ApplicationDatagram.recognise(answer, port: 5353)
        #expect(
            datagram?.summary
                == "DNS answer NOERROR AAAA www.demo.test: CNAME demo.test., AAAA ::1, TYPE65 (3 bytes) (id 0x0001)"
        )
    }

    @Test func manyAnswersAreCutAndNXDOMAINAndNODATASayWhatTheyAre() {
        let six = (1...6).map { " c00c 0001 0001 0000003c 0004 0a00000\($0)" }.joined()
        let many = ApplicationDatagram.recognise(
            Self.bytes("0002 8180 0001 0006 0000 0000 " + Self.demoQuestion + six),
            port: 53
        )
        #expect(
            many?.summary
                == "DNS answer NOERROR A demo.test: A 10.0.0.1, A 10.0.0.2, A 10.0.0.3, A 10.0.0.4 +2 more (id 0x0002)"
        )
        let nx = ApplicationDatagram.recognise(
            Self.bytes("1235 8183 0001 0000 0000 0000 " + Self.demoQuestion),
            port: nil
        )
        #expect(nx?.summary == "DNS answer NXDOMAIN A demo.test (id 0x1235)")
        let servfail = ApplicationDatagram.recognise(
            Self.bytes("1236 8182 0001 0000 0000 0000 " + Self.demoQuestion),
            port: nil
        )
        #expect(servfail?.summary == "DNS answer SERVFAIL A demo.test (id 0x1236)")
        let nodata = ApplicationDatagram.recognise(
            Self.bytes("1237 8180 0001 0000 0000 0000 " + Self.demoQuestion),
            port: nil
        )
        #expect(nodata?.summary == "DNS answer NOERROR A demo.test: no records (id 0x1237)")
    }

    @Test func aDNSMessageWhoseSectionsDoNotEndWithTheBytesIsNotDNS() {
        let whole = "1a2b 8180 0001 0000 0000 0001 " + Self.demoQuestion + " " + Self.opt
        #expect(ApplicationDatagram.recognise(Self.bytes(whole), port: 53) != nil)
        #expect(ApplicationDatagram.recognise(Self.bytes(whole + " 00"), port: 53) == nil, "a byte left over")
        #expect(
            ApplicationDatagram.recognise(Self.bytes("1a2b 8180 0001 0000 0000 0001 " + Self.demoQuestion), port: 53)
                == nil
        )
        #expect(
            ApplicationDatagram.recognise(Self.bytes("1a2b 8180 0002 0000 0000 0000 " + Self.demoQuestion), port: 53)
                == nil
        )
        // A name that writes an escape sequence is shown escaped, not sent to the terminal.
        let escape = Self.bytes("0003 0100 0001 0000 0000 0000 03 1b5b41 00 0001 0001")
        #expect(ApplicationDatagram.recognise(escape, port: 53)?.summary == "DNS query A \\027[A (id 0x0003)")
    }

    // MARK: STUN

    @Test func aBindingRequestFromTheEncoderIsASTUNRequest() {
        let request = STUNBindingRequest(transactionID: Self.transactionID).encoded()
        let datagram = ApplicationDatagram.recognise(request, port: 3478)
        #expect(
            datagram
                == .stun(.request, method: "Binding", transactionID: Self.transactionID, mapped: nil, errorCode: nil)
        )
        #expect(datagram?.summary == "STUN Binding request" && datagram?.isRequest == true)
        let change = STUNBindingRequest(transactionID: Self.transactionID, changeIP: true).encoded()
        #expect(ApplicationDatagram.recognise(change, port: nil)?.exchangeKey == datagram?.exchangeKey)
    }

    @Test func successAndErrorResponsesGiveTheMappedAddressAndTheCode() {
        // XOR-MAPPED-ADDRESS 127.0.0.1:40000: the port xor 0x2112, the address xor the cookie.
        let success = Self.bytes("0101 000c 2112a442 0102030405060708090a0b0c 0020 0008 0001 bd52 5e12a443")
        let datagram = ApplicationDatagram.recognise(success, port: 19302)
        let mapped = STUNAddress(address: [127, 0, 0, 1], port: 40000)
        #expect(
            datagram
                == .stun(.success, method: "Binding", transactionID: Self.transactionID, mapped: mapped, errorCode: nil)
        )
        #expect(datagram?.summary == "STUN Binding success, mapped 127.0.0.1:40000")
        #expect(datagram?.isRequest == false)
        #expect(
            datagram?.exchangeKey
                == ApplicationDatagram.recognise(
                    STUNBindingRequest(transactionID: Self.transactionID).encoded(),
                    port: nil
                )?.exchangeKey
        )
        let error = Self.bytes(
            "0111 0014 2112a442 0102030405060708090a0b0c 0009 0010 00000401 556e617574686f72697a6564"
        )
        #expect(ApplicationDatagram.recognise(error, port: nil)?.summary == "STUN Binding error 401")
        let indication = Self.bytes("0011 0000 2112a442 0102030405060708090a0b0c")
        #expect(ApplicationDatagram.recognise(indication, port: nil)?.summary == "STUN Binding indication")
        #expect(ApplicationDatagram.recognise(indication, port: nil)?.exchangeKey == nil)
        let allocate = Self.bytes("0003 0000 2112a442 0102030405060708090a0b0c")
        #expect(ApplicationDatagram.recognise(allocate, port: nil)?.summary == "STUN Allocate request")
    }

    @Test func aSTUNHeaderWithoutTheCookieOrWithTheWrongLengthIsNotSTUN() {
        #expect(
            ApplicationDatagram.recognise(Self.bytes("0001 0000 00000000 0102030405060708090a0b0c"), port: 3478) == nil
        )
        let request = STUNBindingRequest(transactionID: Self.transactionID).encoded()
        #expect(ApplicationDatagram.recognise(request + [0, 0, 0, 0], port: 3478) == nil, "bytes past its length")
        #expect(
            ApplicationDatagram.recognise(Self.bytes("0001 0004 2112a442 0102030405060708090a0b0c"), port: 3478) == nil
        )
    }

    // MARK: NTP

    /// 2026-12-07 15:30:01.123 UTC on NTP's scale.
    static let serverTime = NTPTimestamp(seconds: 1_796_657_401 + 2_208_988_800, fraction: 528_280_978)

    static func serverReply(to request: [UInt8], stratum: UInt8 = 2, referenceID: [UInt8] = [127, 0, 0, 1]) -> [UInt8] {
        var reply = request
        reply[0] = 0x24  // LI 0, version 4, mode 4 (server)
        reply[1] = stratum
        reply[2] = 6
        reply[3] = 0xE9  // precision 2^-23
        reply.replaceSubrange(12..<16, with: referenceID)
        reply.replaceSubrange(24..<32, with: request[40..<48])
        reply.replaceSubrange(32..<40, with: serverTime.bytes)
        reply.replaceSubrange(40..<48, with: serverTime.bytes)
        return reply
    }

    @Test func aClientRequestAndTheServersReplyPairAndGiveTheTime() throws {
        let request = NTPRequest(transmit: NTPTimestamp(unixTime: 1_796_657_400.5)).encoded()
        let asked = ApplicationDatagram.recognise(request, port: 123)
        #expect(asked?.summary == "NTP client v4" && asked?.isRequest == true)
        let reply = Self.serverReply(to: request)
        let answered = ApplicationDatagram.recognise(reply, port: 123)
        #expect(answered?.summary == "NTP server v4, stratum 2, transmit 2026-12-07 15:30:01.123 UTC")
        #expect(answered?.isRequest == false)
        #expect(asked?.exchangeKey != nil && asked?.exchangeKey == answered?.exchangeKey)
        guard case .ntp(let packet) = answered else {
            Issue.record("not NTP: \(String(describing: answered))")
            return
        }
        #expect(packet.modeName == "server" && packet.stratum == 2 && packet.version == 4)
        #expect(abs(packet.transmit.unixTime - 1_796_657_401.123) < 0.001)
        // With MAC (key id and a 16-byte digest) it is still NTP.
        #expect(ApplicationDatagram.recognise(reply + [UInt8](repeating: 7, count: 20), port: nil) == answered)
    }

    @Test func aKissOfDeathSaysItsCodeAndTimesAfter2036AreInEraOne() {
        let request = NTPRequest(transmit: NTPTimestamp(unixTime: 1e9)).encoded()
        let kiss = Self.serverReply(to: request, stratum: 0, referenceID: Array("RATE".utf8))
        #expect(ApplicationDatagram.recognise(kiss, port: 123)?.summary == "NTP server v4, kiss-o'-death RATE")
        #expect(ApplicationDatagram.utc(NTPTimestamp(unixTime: 2_200_000_000)) == "2039-09-18 23:06:40.000 UTC")
        #expect(ApplicationDatagram.utc(NTPTimestamp(unixTime: 3_000_000_000.5)) == "2065-01-24 05:20:00.500 UTC")
        #expect(NTPTimestamp(unixTime: 3_000_000_000).unixTime == 3_000_000_000)
    }

    @Test func zerosControlModeAndOddLengthsAreNotNTP() {
        #expect(ApplicationDatagram.recognise([UInt8](repeating: 0, count: 48), port: 123) == nil)
        var control = NTPRequest(transmit: NTPTimestamp(unixTime: 1e9)).encoded()
        control[0] = 0x26  // mode 6, control: another format
        #expect(ApplicationDatagram.recognise(control, port: 123) == nil)
        control[0] = 0x21  // mode 1, symmetric active: no relayed flow carries it
        #expect(ApplicationDatagram.recognise(control, port: 123) == nil)
        let noTransmit = NTPRequest(transmit: NTPTimestamp(seconds: 0, fraction: 0)).encoded()
        #expect(ApplicationDatagram.recognise(noTransmit, port: 123) == nil, "a client request nothing can answer")
        let request = NTPRequest(transmit: NTPTimestamp(unixTime: 1e9)).encoded()
        #expect(ApplicationDatagram.recognise(request + [0], port: 123) == nil)
        #expect(ApplicationDatagram.recognise(Array(request.prefix(47)), port: 123) == nil)
    }

    // MARK: QUIC

    static let ids: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]

    @Test func aProbesInitialIsAQUICLongHeader() {
        let v1 = QUICProbe(version: 1, destinationConnectionID: Self.ids, sourceConnectionID: []).encoded()
        let datagram = ApplicationDatagram.recognise(v1, port: 443)
        #expect(datagram == .quicLongHeader(version: 1, type: .initial, destinationIDLength: 8, sourceIDLength: 0))
        #expect(datagram?.summary == "QUIC Initial v1, DCID 8 bytes, SCID 0 bytes")
        #expect(datagram?.exchangeKey == nil && datagram?.isRequest == false)
        let reserved = QUICProbe(version: 0x1A2A_3A4A, destinationConnectionID: Self.ids, sourceConnectionID: Self.ids)
        #expect(
            ApplicationDatagram.recognise(reserved.encoded(), port: nil)?.summary
                == "QUIC Initial reserved 0x1a2a3a4a, DCID 8 bytes, SCID 8 bytes"
        )
        let draft = QUICProbe(version: 0xFF00_001D, destinationConnectionID: Self.ids, sourceConnectionID: [])
        #expect(
            ApplicationDatagram.recognise(draft.encoded(), port: nil)?.summary.hasPrefix("QUIC Initial draft-29")
                == true
        )
    }

    @Test func version2NumbersItsPacketTypesOtherwise() {
        var v2 = QUICProbe(version: 0x6B33_43CF, destinationConnectionID: Self.ids, sourceConnectionID: []).encoded()
        #expect(ApplicationDatagram.recognise(v2, port: nil)?.summary == "QUIC Retry v2, DCID 8 bytes, SCID 0 bytes")
        v2[0] = 0xD3  // type bits 01: Initial in v2 (RFC 9369 §3.2)
        #expect(ApplicationDatagram.recognise(v2, port: nil)?.summary == "QUIC Initial v2, DCID 8 bytes, SCID 0 bytes")
        let handshake: [UInt8] =
            [0xE1, 0, 0, 0, 1, 8] + Self.ids + [0, 0x40, 0x20] + [UInt8](repeating: 0xAB, count: 32)
        #expect(
            ApplicationDatagram.recognise(handshake, port: nil)
                == .quicLongHeader(version: 1, type: .handshake, destinationIDLength: 8, sourceIDLength: 0)
        )
        #expect(ApplicationDatagram.recognise(Array(handshake.dropLast()), port: 443) == nil, "Length past the end")
    }

    @Test func aVersionNegotiationIsRecognisedAndUnknownOrMalformedHeadersAreNot() {
        let vn: [UInt8] = [0xF0, 0, 0, 0, 0, 8] + Self.ids + [8] + Self.ids + [0xFA, 0x8A, 0xDA, 0xDA, 0, 0, 0, 1]
        #expect(
            ApplicationDatagram.recognise(vn, port: nil)?.summary
                == "QUIC version negotiation, DCID 8 bytes, SCID 8 bytes"
        )
        let v1 = QUICProbe(version: 1, destinationConnectionID: Self.ids, sourceConnectionID: []).encoded()
        var unknown = v1
        unknown.replaceSubrange(1..<5, with: [0x12, 0x34, 0x56, 0x78])
        #expect(ApplicationDatagram.recognise(unknown, port: 443) == nil)
        var noFixedBit = v1
        noFixedBit[0] = 0x83
        #expect(ApplicationDatagram.recognise(noFixedBit, port: 443) == nil)
        let longID = QUICProbe(
            version: 1,
            destinationConnectionID: Array(repeating: 1, count: 21),
            sourceConnectionID: []
        )
        #expect(ApplicationDatagram.recognise(longID.encoded(), port: 443) == nil)
    }

    @Test func aShortHeaderIsQUICOnlyOnAFlowThatHasShownQUIC() {
        let short: [UInt8] = [0x41] + [UInt8](repeating: 0xAA, count: 40)
        #expect(ApplicationDatagram.recognise(short, port: 443) == nil)
        #expect(ApplicationDatagram.recognise(short, port: 443, quicSeen: true) == .quicShortHeader)
        #expect(ApplicationDatagram.recognise(short, port: nil, quicSeen: true)?.summary == "QUIC short header (1-RTT)")
        #expect(
            ApplicationDatagram.recognise(Array(short.prefix(20)), port: 443, quicSeen: true) == nil,
            "no room for a tag"
        )
        #expect(ApplicationDatagram.recognise([0x01] + short.dropFirst(), port: 443, quicSeen: true) == nil)
    }

    // MARK: What is none of them

    /// A 48-byte DNS query whose first bytes also read as an NTP client header: the port decides.
    @Test func thePortDecidesBetweenTwoReadingsThatFit() throws {
        let both = try DNSQuery(id: 0x2300, name: "abcdefghijklmnopqrstuvwxy.test", type: .a, ednsPayloadSize: nil)
            .encoded()
        #expect(both.count == 48)
        #expect(ApplicationDatagram.recognise(both, port: nil)?.summary.hasPrefix("DNS query") == true)
        #expect(ApplicationDatagram.recognise(both, port: 53)?.summary.hasPrefix("DNS query") == true)
        #expect(ApplicationDatagram.recognise(both, port: 123)?.summary == "NTP client v4")
    }

    @Test func echoPayloadsZerosAndCookielessHeadersAreNotRecognised() {
        // What `socksdeck send --size N` sends: "socksdeck 0000 socksdeck 0015 …".
        let text = (0..<100).map { i in
            "socksdeck " + String(repeating: "0", count: 4 - String(i * 15).count) + "\(i * 15) "
        }
        let payload = Array(text.joined().utf8)
        for size in [1, 15, 20, 47, 48, 49, 68, 100, 512, 1200] {
            for port: UInt16? in [nil, 53, 123, 3478, 443] {
                #expect(ApplicationDatagram.recognise(Array(payload.prefix(size)), port: port) == nil, "\(size) bytes")
            }
        }
        for size in [0, 1, 20, 48, 68, 1200] {
            #expect(ApplicationDatagram.recognise([UInt8](repeating: 0, count: size), port: 123) == nil)
            #expect(ApplicationDatagram.recognise([UInt8](repeating: 0xFF, count: size), port: 443) == nil)
        }
        #expect(ApplicationDatagram.recognise([0, 1, 0, 0] + [UInt8](repeating: 0x42, count: 16), port: 3478) == nil)
    }

    /// Random bytes, from a fixed seed: the structure checks let through well under 1 in 1,000.
    @Test func randomBytesAreRarelyRecognised() {
        // SplitMix64 is WireExplanationTests' seeded generator.
        var random = SplitMix64(seed: 0x5EED)
        var recognised = 0
        let count = 20_000
        for i in 0..<count {
            // Every fourth one 48 bytes long, the size NTP is recognised at.
            let size = i % 4 == 0 ? 48 : Int(random.next() % 1500)
            let bytes = (0..<size).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            if ApplicationDatagram.recognise(bytes, port: nil) != nil { recognised += 1 }
        }
        #expect(recognised < count / 1000, "\(recognised) of \(count) random datagrams recognised")
    }

    static let valid: [[UInt8]] = {
        var all: [[UInt8]] = [
            bytes("1a2b 8180 0001 0001 0000 0001 " + demoQuestion + " c00c 0001 0001 0000003c 0004 7f000001 " + opt),
            bytes("0101 000c 2112a442 0102030405060708090a0b0c 0020 0008 0001 bd52 5e12a443"),
            bytes("0111 0014 2112a442 0102030405060708090a0b0c 0009 0010 00000401 556e617574686f72697a6564"),
            STUNBindingRequest(transactionID: transactionID, changePort: true).encoded(),
            NTPRequest(transmit: NTPTimestamp(unixTime: 1e9)).encoded(),
            serverReply(to: NTPRequest(transmit: NTPTimestamp(unixTime: 1e9)).encoded()),
            QUICProbe(version: 1, destinationConnectionID: ids, sourceConnectionID: []).encoded(),
            [0xF0, 0, 0, 0, 0, 8] + ids + [8] + ids + [0xFA, 0x8A, 0xDA, 0xDA, 0, 0, 0, 1],
        ]
        if let query = try? DNSQuery(id: 0x1A2B, name: "demo.test", type: .aaaa).encoded() { all.append(query) }
        return all
    }()

    /// Every prefix of every datagram above is either nothing or something, and never a crash;
    /// a DNS or STUN message cut short is never taken for itself.
    @Test(arguments: 0..<9)
    func everyTruncatedPrefixIsSafe(index: Int) {
        let datagram = Self.valid[index]
        #expect(ApplicationDatagram.recognise(datagram, port: nil) != nil)
        for length in 0..<datagram.count {
            let prefix = Array(datagram.prefix(length))
            for port: UInt16? in [nil, 53, 123, 3478, 443] {
                for quicSeen in [false, true] {
                    let reading = ApplicationDatagram.recognise(prefix, port: port, quicSeen: quicSeen)
                    _ = reading?.summary
                    _ = reading?.exchangeKey
                    switch reading {
                    case .dnsQuery?, .dnsResponse?, .stun?:
                        Issue.record("\(length) bytes of datagram \(index) taken for \(reading?.summary ?? "")")
                    default: break
                    }
                }
            }
        }
    }
}
