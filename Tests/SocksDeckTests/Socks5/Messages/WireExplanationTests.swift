import Testing

@testable import Socks5

/// `socksdeck decode` on bytes: each message read field by field, the kind guessed as a person
/// pasting from a capture means it, and whatever is wrong said.
@Suite struct WireExplanationTests {
    static func bytes(_ hex: String) -> [UInt8] { hex.split(separator: " ").map { UInt8($0, radix: 16)! } }

    @Test func aRefusalReplyNamesTheREPAndTheUnspecifiedBND() {
        let e = WireExplanation.explain(Self.bytes("05 07 00 01 00 00 00 00 00 00"))
        #expect(e.kind == .reply && e.problem == nil)
        #expect(e.fields.map(\.name) == ["VER", "REP", "RSV", "ATYP", "BND.ADDR", "BND.PORT"])
        #expect(e.fields[1].meaning.hasPrefix("REP 07: command not supported"))
        #expect(e.fields[4].meaning.hasPrefix("0.0.0.0 (unspecified"))
    }

    @Test(arguments: [
        ("00 00 00 01 7f 00 00 01 00 35 68 69", WireExplanation.Kind.udp),
        ("05 ff", .method),
        ("01 00", .auth),
        ("05 02 00 02", .greeting),
        ("05 01 00", .greeting),
        // Fits a greeting of 8 methods and a whole REP 8 reply: the reply wins.
        ("05 08 00 01 00 00 00 00 00 00", .reply),
        ("05 00 00 04 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 04 38", .reply),
    ])
    func theKindIsGuessedFromTheBytes(hex: String, kind: WireExplanation.Kind) {
        #expect(WireExplanation.guessKind(Self.bytes(hex)) == kind)
        #expect(WireExplanation.explain(Self.bytes(hex)).problem == nil, "\(hex)")
    }

    @Test func aUDPHeaderShowsItsDestinationAndPayload() {
        let e = WireExplanation.explain(Self.bytes("00 00 00 03 03 64 6e 73 00 35 ab cd"))
        #expect(e.fields.map(\.meaning).contains("dns"))
        #expect(e.fields.last?.name == "DATA" && e.fields.last?.meaning.hasPrefix("2 byte(s) of payload") == true)
        let fragment = WireExplanation.explain(Self.bytes("00 00 01 01 7f 00 00 01 00 35"))
        #expect(fragment.fields[1].meaning.contains("drops fragments"))
    }

    @Test(arguments: [
        ("05 00 00 01 7f 00", "the bytes end before BND.ADDR"),
        ("04 5a 00 00 00 00 00 00", "this is not a SOCKS5 message"),
        ("05 00 00 09 00 00", "ATYP 09 is unknown"),
        ("05 00 00 03 00 00 00", "a domain name of length 0"),
        ("05 00 00 01 7f 00 00 01 00 35 ee", "1 byte(s) after the message: ee"),
    ])
    func whatIsWrongIsSaid(hex: String, problem: String) {
        let e = WireExplanation.explain(Self.bytes(hex))
        #expect(e.problem?.contains(problem) == true, "\(hex): \(String(describing: e.problem))")
    }

    @Test func aRequestIsReadAsOneWhenAsked() {
        let e = WireExplanation.explain(Self.bytes("05 03 00 01 00 00 00 00 00 00"), as: .request)
        #expect(e.fields[1].meaning == "UDP ASSOCIATE" && e.problem == nil)
        #expect(WireExplanation.explain(Self.bytes("05 03 00 01 00 00 00 00 00 00")).title.contains("--as request"))
    }

    /// Any bytes at all, as any kind: an explanation, never a crash (a bounded, seeded loop).
    @Test func anyBytesGetAnExplanation() {
        var generator = SplitMix64(seed: 42)
        for _ in 0..<3000 {
            let count = Int(generator.next() % 40)
            let bytes = (0..<count).map { _ in
                UInt8(truncatingIfNeeded: generator.next() % 7 == 0 ? 0 : generator.next())
            }
            for kind in [nil] + WireExplanation.Kind.allCases.map(Optional.some) {
                let e = WireExplanation.explain(bytes, as: kind)
                #expect(e.fields.reduce(0) { $0 + $1.hex.split(separator: " ").count } <= max(bytes.count, 0) + 1)
            }
        }
    }
}

/// A small deterministic generator, so that a failure can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
