import Glibc
import Testing

@testable import Socks5

@Suite struct ErrorCatalogueTests {
    @Test func everyS5CodeHasANameASentenceAndAnErrno() {
        var names = Set<String>()
        for code in SOCKS5ErrorCode.allCases {
            let d = ErrorCatalogue.decode(s5: code.rawValue)
            #expect(d.name == code.name)
            #expect(d.sentence.hasSuffix(".") && d.sentence.count > 20)
            #expect(code.errnoValue != 0)
            names.insert(d.name)
        }
        #expect(names.count == SOCKS5ErrorCode.allCases.count)
    }

    /// Issue 27: C programs read these words (socks5_strerror): none names a SocksDeck command,
    /// option or configuration key; SocksDeck adds its own where it shows them (SocksDeckHint).
    @Test func theLibrarysWordsNameNoFrontEnd() {
        var all = SOCKS5ErrorCode.allCases.map { ErrorCatalogue.decode(s5: $0.rawValue) }
        all += (UInt8(1)...9).map { ErrorCatalogue.decode(reply: $0, command: .udpAssociate) }
        all += ErrorCatalogue.errnoEntries.map { ErrorCatalogue.decode(errno: $0.value) }
        for d in all {
            let text = "\(d.summary) \(d.sentence) \(d.hint ?? "")"
            for frontEnd in ["socksdeck", "SocksDeck", "--", "_ms", "getserv"] {
                #expect(!text.contains(frontEnd), "\(d.name) names '\(frontEnd)': \(text)")
            }
        }
    }

    @Test func codesEqualTheirReplyBytes() {
        for rep in UInt8(1)...8 {
            #expect(SOCKS5ErrorCode(reply: ReplyCode(rawValue: rep))?.rawValue == Int32(rep))
        }
        #expect(SOCKS5ErrorCode(reply: ReplyCode(rawValue: 9)) == .unassignedReply)
        #expect(SOCKS5ErrorCode(reply: .succeeded) == nil)
    }

    @Test func errnoFollowsTheDecisionTable() {
        let expected: [SOCKS5ErrorCode: Int32] = [
            .serverFailure: EPROTO, .notAllowed: EACCES, .networkUnreachable: ENETUNREACH,
            .hostUnreachable: EHOSTUNREACH,
            .connectionRefused: ECONNREFUSED, .ttlExpired: ETIMEDOUT, .commandNotSupported: EOPNOTSUPP,
            .addressTypeNotSupported: EAFNOSUPPORT, .unassignedReply: EPROTO, .malformedReply: EPROTO,
            .noAcceptableMethod: EACCES, .authenticationFailed: EACCES, .noServer: EHOSTUNREACH,
            // A reply cut short by a close is a truncated reply: EPROTO, not ECONNRESET.
            .closedDuringHandshake: EPROTO, .domainBoundAddress: EAFNOSUPPORT, .methodNotOffered: EPROTO,
            .boundAddressFamily: EAFNOSUPPORT, .configurationFile: EINVAL,
        ]
        #expect(Set(expected.keys) == Set(SOCKS5ErrorCode.allCases), "every code is in the table")
        for (code, value) in expected { #expect(code.errnoValue == value, "\(code.name)") }
    }

    @Test func rep7OnUDPAssociateHintsAtAMissingUDPRelay() {
        let d = ErrorCatalogue.decode(reply: 7, command: .udpAssociate)
        #expect(d.name == "REP 07")
        #expect(d.hint?.contains("UDP") == true)
        let e = SOCKS5Error(code: .commandNotSupported, replyByte: 7, command: .udpAssociate)
        #expect(e.description.contains("UDP ASSOCIATE"))
        #expect(e.description.contains("S5_EOPNOTSUPP"))
    }

    @Test func unknownCodesSaySo() {
        #expect(ErrorCatalogue.decode(s5: 99).sentence.contains("not a socks5_errno code"))
        #expect(ErrorCatalogue.decode(reply: 0x2A).sentence.contains("does not assign"))
    }

    @Test func errnosTheLibrarySetsAreInTheCatalogue() {
        for value in [
            ECONNREFUSED, ETIMEDOUT, EINVAL, EAFNOSUPPORT, ENOTSOCK, EBADF, EMSGSIZE, EAGAIN, EPROTO, ECONNRESET,
            EACCES, EOPNOTSUPP, ENOMEM,
            // From socket(2) and accept(2) when descriptors run out: a thousand associations meet it.
            EMFILE, ENFILE,
        ] {
            let d = ErrorCatalogue.decode(errno: value)
            #expect(d.name.hasPrefix("E"), "errno \(value)")
            #expect(d.value == value)
        }
    }

    @Test func lookupUnderstandsNamesNumbersAndReplyBytes() {
        #expect(ErrorCatalogue.lookup("S5_EOPNOTSUPP").map(\.name) == ["S5_EOPNOTSUPP"])
        #expect(ErrorCatalogue.lookup("econnrefused").map(\.name) == ["S5_ECONNREFUSED", "ECONNREFUSED"])
        #expect(ErrorCatalogue.lookup("REP 7").map(\.name) == ["REP 07"])
        #expect(ErrorCatalogue.lookup("0x08").map(\.name) == ["REP 08"])
        #expect(ErrorCatalogue.lookup("7").map(\.name) == ["S5_EOPNOTSUPP", "REP 07"])
        #expect(ErrorCatalogue.lookup("nonsense").isEmpty)
    }
}
