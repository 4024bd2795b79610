import ArgumentParser
import Socks5

struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Explain an error code: an S5_* name or number, a REP byte, or an errno name.",
        discussion: "Examples: socksdeck decode S5_EOPNOTSUPP; decode 'REP 7'; decode 0x07; decode ECONNREFUSED; decode 7.")

    @Argument(help: "S5_EOPNOTSUPP, 7, 'REP 7', 0x07, ECONNREFUSED…") var code: String
    @Flag(help: "One JSON object: {\"matches\": [...]}.") var json = false

    func run() throws {
        let found = ErrorCatalogue.lookup(code)
        if json {
            struct Match: Encodable { var name: String; var value: Int32; var summary: String; var sentence: String; var hint: String? }
            struct All: Encodable { var query: String; var matches: [Match] }
            Output.json(All(query: code, matches: found.map { Match(name: $0.name, value: $0.value, summary: $0.summary, sentence: $0.sentence, hint: $0.hint) }))
        } else {
            for d in found {
                Output.line("\(d.name) (\(d.value)): \(d.summary)")
                Output.line("  \(d.sentence)")
                if let hint = d.hint { Output.line("  Hint: \(hint)") }
            }
        }
        if found.isEmpty {
            if !json { Output.error("'\(code)' names no S5 code, REP byte or errno this catalogue knows") }
            throw Exit.usage
        }
    }
}
