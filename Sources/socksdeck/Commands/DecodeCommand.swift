import ArgumentParser
import Socks5
import SocksDeckEngine

extension WireExplanation.Kind: ExpressibleByArgument {}

struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Explain an error code, or a SOCKS5 message or UDP datagram header given in hex.",
        discussion: """
            A code: an S5_* name or number, a REP byte, or an errno name (decode S5_EOPNOTSUPP; \
            decode 'REP 7'; decode 0x07; decode ECONNREFUSED; decode 7). Bytes, as copied from a \
            capture: every field with its meaning (decode "05 07 00 01 00 00 00 00 00 00" is a reply; \
            decode "00 00 00 01 7f 00 00 01 00 35 68 69" a UDP header and its payload). The kind is \
            guessed from the bytes; --as names it.
            """
    )

    @Argument(help: "S5_EOPNOTSUPP, 7, 'REP 7', 0x07, ECONNREFUSED, or hex bytes: \"05 07 00 01 …\".")
    var code: String
    @Option(
        name: .customLong("as"),
        help: ArgumentHelp(
            "Read the bytes as this message: greeting, method, auth, request, reply, udp.",
            valueName: "KIND"
        )
    )
    var kind: WireExplanation.Kind?
    @Flag(help: "One JSON object: {\"matches\": [...]} for a code, {\"fields\": [...]} for bytes.") var json = false

    func run() throws {
        if let bytes = messageBytes() { return try explain(bytes) }
        let found = ErrorCatalogue.lookup(code)
        if json {
            struct Match: Encodable {
                var name: String
                var value: Int32
                var summary: String
                var sentence: String
                var hint: String?
            }
            struct All: Encodable {
                var query: String
                var matches: [Match]
            }
            Output.json(
                All(
                    query: code,
                    matches: found.map {
                        Match(name: $0.name, value: $0.value, summary: $0.summary, sentence: $0.sentence, hint: $0.hint)
                    }
                )
            )
        } else {
            for d in found {
                Output.line("\(d.name) (\(d.value)): \(d.summary)")
                Output.line("  \(d.sentence)")
                if let hint = d.hint { Output.line("  Hint: \(hint)") }
            }
        }
        if found.isEmpty {
            if !json {
                Output.error("'\(code)' names no S5 code, REP byte or errno this catalogue knows, and is not hex bytes")
            }
            throw Exit.usage
        }
    }

    /// The bytes to explain: with --as, or when the text is at least two hex bytes and names
    /// no code ("05 07", "05ff"; but 7, 1080 and 0x07 stay codes).
    private func messageBytes() -> [UInt8]? {
        guard let bytes = HexPayload.parse(code) else { return nil }
        if kind != nil { return bytes }
        let separated = code.contains(where: { $0 == " " || $0 == ":" || $0 == "," }) || code.hasPrefix("\\x")
        guard bytes.count >= 2, separated || ErrorCatalogue.lookup(code).isEmpty else { return nil }
        return bytes
    }

    private func explain(_ bytes: [UInt8]) throws {
        let e = WireExplanation.explain(bytes, as: kind)
        if json {
            struct FieldJSON: Encodable { var name, hex, meaning: String }
            struct All: Encodable {
                var kind: String
                var title: String
                var fields: [FieldJSON]
                var problem: String?
            }
            Output.json(
                All(
                    kind: e.kind.rawValue,
                    title: e.title,
                    fields: e.fields.map { FieldJSON(name: $0.name, hex: $0.hex, meaning: $0.meaning) },
                    problem: e.problem
                )
            )
        } else {
            Output.line("\(bytes.count) bytes: a SOCKS5 \(e.title)")
            let nameWidth = max(e.fields.map(\.name.count).max() ?? 0, 4)
            let hexWidth = min(max(e.fields.map(\.hex.count).max() ?? 0, 2), 48)
            for f in e.fields {
                Output.line("  " + f.name.padding(nameWidth) + "  " + f.hex.padding(hexWidth) + "  " + f.meaning)
            }
            if let problem = e.problem { Output.line("  ✘ " + problem) }
        }
        if e.problem != nil { throw Exit.operationFailed }
    }
}
