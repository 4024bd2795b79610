#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A failure in words: a short name, a sentence a person understands, and a hint where one helps.
public struct DecodedError: Sendable, Hashable {
    /// "S5_EOPNOTSUPP", "REP 07", "ECONNREFUSED".
    public var name: String
    /// The number behind the name: the S5 code, the REP byte or the errno.
    public var value: Int32
    /// "command not supported".
    public var summary: String
    /// A whole sentence.
    public var sentence: String
    public var hint: String?
}

/// The one catalogue of failures: every S5 code, every REP byte, every errno the library sets.
/// Everything that shows an error (the C API's socks5_strerror, the engine, the CLI, the TUI)
/// shows it through here, so the words are the same everywhere.
public enum ErrorCatalogue {
    /// An S5 code. Unknown codes get a sentence that says so.
    public static func decode(s5 code: Int32) -> DecodedError {
        guard let known = SOCKS5ErrorCode(rawValue: code) else {
            return DecodedError(
                name: "S5_\(code)",
                value: code,
                summary: "unknown code",
                sentence: "\(code) is not a socks5_errno code this library knows.",
                hint: nil
            )
        }
        let e = entry(known)
        return DecodedError(name: known.name, value: code, summary: e.summary, sentence: e.sentence, hint: e.hint)
    }

    /// A REP byte, with the hint for the command it answered where that matters (REP 7 to UDP
    /// ASSOCIATE means the server has no UDP relay).
    public static func decode(reply: UInt8, command: Command? = nil) -> DecodedError {
        let name = "REP \(hexByte(reply))"
        if reply == 0 {
            return DecodedError(
                name: name,
                value: 0,
                summary: "succeeded",
                sentence: "The server carried out the request.",
                hint: nil
            )
        }
        let code = SOCKS5ErrorCode(reply: ReplyCode(rawValue: reply))!
        let e = entry(code, command: command)
        let sentence =
            reply <= 8 ? e.sentence : "The server answered with reply code \(reply), which RFC 1928 does not assign."
        return DecodedError(name: name, value: Int32(reply), summary: e.summary, sentence: sentence, hint: e.hint)
    }

    /// An errno value.
    public static func decode(errno value: Int32) -> DecodedError {
        if let e = errnoEntries.first(where: { $0.value == value }) {
            return DecodedError(name: e.name, value: value, summary: e.summary, sentence: e.sentence, hint: e.hint)
        }
        let text = String(cString: strerror(value))
        return DecodedError(name: "errno \(value)", value: value, summary: text, sentence: text + ".", hint: nil)
    }

    /// A library failure: its S5 code when it has one, else its errno.
    public static func decode(_ error: SOCKS5Error) -> DecodedError {
        guard let code = error.code else {
            var d = decode(errno: error.systemError)
            if let hint = error.hint { d.hint = hint }
            return d
        }
        let e = entry(code, command: error.command, phase: error.phase)
        var d = DecodedError(
            name: code.name,
            value: code.rawValue,
            summary: e.summary,
            sentence: e.sentence,
            hint: error.hint ?? e.hint
        )
        if code == .unassignedReply, let rep = error.replyByte {
            d.sentence =
                "The server answered with reply code \(rep) (0x\(hexByte(rep))), which RFC 1928 does not assign."
        }
        return d
    }

    /// Everything a piece of text can name: "S5_EOPNOTSUPP" or "EOPNOTSUPP" (an S5 name, then an
    /// errno name), "REP 7" / "rep7" / "0x07" (a REP byte), or a bare number (the S5 code, the REP
    /// byte and the errno of that value). Empty when it names nothing.
    public static func lookup(_ text: String) -> [DecodedError] {
        let t = text.trimmingSpaces.uppercased()
        if t.hasPrefix("S5_"), let c = SOCKS5ErrorCode(name: t) { return [decode(s5: c.rawValue)] }
        if t.hasPrefix("REP") {
            let digits = t.dropFirst(3).drop(while: { $0 == " " })
            if let v = parseByte(String(digits)) { return [decode(reply: v)] }
            return []
        }
        if t.hasPrefix("0X"), let v = UInt8(t.dropFirst(2), radix: 16) { return [decode(reply: v)] }
        if let n = Int32(t) {
            var found: [DecodedError] = []
            if SOCKS5ErrorCode(rawValue: n) != nil { found.append(decode(s5: n)) }
            if (0...255).contains(n) { found.append(decode(reply: UInt8(n))) }
            if errnoEntries.contains(where: { $0.value == n }) { found.append(decode(errno: n)) }
            return found
        }
        var found: [DecodedError] = []
        if let c = SOCKS5ErrorCode(name: t) { found.append(decode(s5: c.rawValue)) }
        if let e = errnoEntries.first(where: { $0.name == t }) { found.append(decode(errno: e.value)) }
        return found
    }

    private static func parseByte(_ s: String) -> UInt8? {
        if s.hasPrefix("0X") { return UInt8(s.dropFirst(2), radix: 16) }
        return UInt8(s)
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\n" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" || l == "\r" { s.removeLast() }
        return String(s)
    }
}
