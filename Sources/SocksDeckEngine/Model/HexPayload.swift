/// Payload bytes written as hex, the way people paste them: "68 69", "68:69", "68,69", "0x6869",
/// "0x68 0x69", "\x68\x69". The CLI's `--hex` and the TUI's send form both read hex here.
package enum HexPayload {
    /// Why a text is not hex bytes, in words that point at the culprit.
    package enum Problem: Error, Equatable, CustomStringConvertible {
        case empty
        /// A character that is not a hex digit, and its position in the text (1-based).
        case notAHexDigit(Character, position: Int)
        /// An odd number of digits: the last byte has one digit only.
        case oddDigitCount(Int)

        package var description: String {
            switch self {
            case .empty: "no hex digits"
            case .notAHexDigit(let c, let position):
                "'\(c)' (character \(position)) is not a hex digit (0-9, a-f)"
            case .oddDigitCount(let n):
                "\(n) hex digits: a byte takes two, so the count must be even"
            }
        }
    }

    /// The bytes, or why the text is not hex. Separators between bytes (space, ':', ',') and a
    /// `0x` or `\x` before a group of digits are allowed.
    package static func decode(_ text: String) throws(Problem) -> [UInt8] {
        var nibbles: [UInt8] = []
        nibbles.reserveCapacity(text.utf8.count)
        let characters = Array(text)
        var index = 0
        while index < characters.count {
            let c = characters[index]
            // "\x" always starts a byte; "0x" only where a group starts ("10x" is no prefix).
            let startsGroup = c == "\\" || index == 0 || [" ", "\t", ":", ","].contains(characters[index - 1])
            if c == "0" || c == "\\", startsGroup, index + 1 < characters.count, "xX".contains(characters[index + 1]) {
                index += 2
                continue
            }
            if c.isWhitespace || c == ":" || c == "," {
                index += 1
                continue
            }
            guard let value = c.hexDigitValue else { throw .notAHexDigit(c, position: index + 1) }
            nibbles.append(UInt8(value))
            index += 1
        }
        guard !nibbles.isEmpty else { throw .empty }
        guard nibbles.count % 2 == 0 else { throw .oddDigitCount(nibbles.count) }
        return stride(from: 0, to: nibbles.count, by: 2).map { nibbles[$0] << 4 | nibbles[$0 + 1] }
    }

    /// The bytes, or nil when the text is not hex (see `decode` for why).
    package static func parse(_ text: String) -> [UInt8]? { try? decode(text) }
}
