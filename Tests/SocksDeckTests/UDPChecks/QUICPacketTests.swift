import Testing
import UDPChecks

/// The QUIC probe's codec (RFC 9000 §17.2, RFC 8999), without sockets.
@Suite struct QUICPacketTests {
    let probe = QUICProbe(
        version: 0x1A2A_3A4A,
        destinationConnectionID: [1, 2, 3, 4, 5, 6, 7, 8],
        sourceConnectionID: [9, 10, 11, 12, 13, 14, 15, 16]
    )

    @Test func theInitialIsA1200ByteLongHeaderWithTheReservedVersionAndOurIds() {
        let bytes = probe.encoded()
        #expect(bytes.count == 1200)
        #expect(bytes[0] == 0xC3, "long header, fixed bit, Initial, 4-byte packet number")
        #expect(Array(bytes[1..<5]) == [0x1A, 0x2A, 0x3A, 0x4A])
        #expect(bytes[5] == 8 && Array(bytes[6..<14]) == probe.destinationConnectionID)
        #expect(bytes[14] == 8 && Array(bytes[15..<23]) == probe.sourceConnectionID)
        #expect(bytes[23] == 0, "no token")
        // The 2-byte Length covers the packet number and everything after it.
        let length = Int(bytes[24] & 0x3F) << 8 | Int(bytes[25])
        #expect(bytes[24] & 0xC0 == 0x40 && 26 + length == 1200)
    }

    @Test func freshProbesHaveReservedVersionsAndDistinctIds() {
        let a = QUICProbe()
        let b = QUICProbe()
        #expect(a.version & 0x0F0F_0F0F == 0x0A0A_0A0A && b.version & 0x0F0F_0F0F == 0x0A0A_0A0A)
        #expect(a.destinationConnectionID != b.destinationConnectionID)
        #expect(QUICVersion.name(a.version).hasSuffix("(reserved, RFC 9000 §15)"))
    }

    /// The bytes ngtcp2's gtlsserver sent back to such an Initial (seen with tcpdump): a
    /// greasing version and QUIC v1.
    @Test func aRealVersionNegotiationParsesAndMatches() throws {
        let vn: [UInt8] =
            [0xF0, 0, 0, 0, 0, 8] + probe.sourceConnectionID + [8] + probe.destinationConnectionID
            + [0xFA, 0x8A, 0xDA, 0xDA, 0, 0, 0, 1]
        let parsed = try QUICVersionNegotiation.parse(vn)
        #expect(parsed.versions == [0xFA8A_DADA, 1])
        #expect(probe.problem(answering: parsed) == nil)
        #expect(probe.interpret(vn, sent: probe.encoded()) == .versionNegotiation(parsed))
        #expect(parsed.versions.map(QUICVersion.name) == ["0xfa8adada (reserved, RFC 9000 §15)", "QUIC v1 (RFC 9000)"])
    }

    @Test func aVersionNegotiationForOtherIdsOrOfferingOurVersionIsNotAnAnswer() throws {
        let swappedWrong: [UInt8] =
            [0x80, 0, 0, 0, 0, 8] + probe.destinationConnectionID + [8] + probe.sourceConnectionID + [0, 0, 0, 1]
        #expect(probe.problem(answering: try QUICVersionNegotiation.parse(swappedWrong))?.contains("other") == true)
        let offersOurs: [UInt8] =
            [0x80, 0, 0, 0, 0, 8] + probe.sourceConnectionID + [8] + probe.destinationConnectionID
            + [0x1A, 0x2A, 0x3A, 0x4A]
        #expect(probe.problem(answering: try QUICVersionNegotiation.parse(offersOurs))?.contains("§6.2") == true)
    }

    @Test func echoesCutEchoesAndGarbageAreToldApart() {
        let sent = probe.encoded()
        #expect(probe.interpret(sent, sent: sent) == .echo)
        #expect(probe.interpret(Array(sent.prefix(1000)), sent: sent) == .cutEcho(length: 1000))
        #expect(probe.mayAnswer(Array(sent.prefix(1000)), sent: sent))
        guard case .notQUIC(let why) = probe.interpret(Array("hello".utf8), sent: sent) else {
            Issue.record("garbage taken for QUIC")
            return
        }
        #expect(why.contains("not a QUIC long header"))
        #expect(!probe.mayAnswer(Array("hello".utf8), sent: sent))
    }

    @Test(arguments: [
        ([UInt8](), "cut short in its first byte"),
        ([0x80, 0, 0], "cut short in its version"),
        ([0x80, 0, 0, 0, 1, 0, 0], "version QUIC v1 (RFC 9000), not 0"),
        ([0x80, 0, 0, 0, 0, 9, 1], "cut short in its destination connection id"),
        ([0x80, 0, 0, 0, 0, 0, 0, 1, 2], "a version list of 2 bytes"),
    ])
    func malformedPacketsSayWhatIsWrong(bytes: [UInt8], words: String) {
        #expect(throws: QUICVersionNegotiation.ParseError.self) { try QUICVersionNegotiation.parse(bytes) }
        do {
            _ = try QUICVersionNegotiation.parse(bytes)
        } catch {
            #expect(error.description.contains(words), "\(error)")
        }
    }
}
