/// Checks the table headers of a TOML text before TOMLKit parses it.
///
/// toml++ (the C++ parser inside TOMLKit 0.6.0) asserts, and so aborts the whole process, on a
/// header whose name starts with a character a key cannot start with: `[[[server]]]`,
/// `[ @x]`. SwiftPM compiles it with its assertions on, in release builds too, so a typo in a
/// configuration or theme file would crash socksdeck. Found by Fuzz/FuzzDeckConfiguration. The
/// check looks only at what that assertion needs: after `[` or `[[` and blanks, a bare-key
/// character, a quote, or `]` (which toml++ reports itself).
public enum TOMLHeaderGuard {
    public static func check(_ text: String) -> (line: Int, message: String)? {
        // UTF-8 bytes, not Characters, as toml++ reads: "\r\n" is one Character in Swift, and so
        // is "[" followed by a combining mark (both found by the fuzzer).
        let space = UInt8(ascii: " "), tab = UInt8(ascii: "\t"), open = UInt8(ascii: "[")
        let lines = Array(text.utf8).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        // Every line is checked, even one inside a multi-line string, where such a line would
        // be text: telling the two apart needs a TOML lexer (comments, escapes, both quote
        // kinds), and a mistake that way aborts the process, while this way it is an error
        // message about a file no SocksDeck key needs multi-line strings in.
        for (index, raw) in lines.enumerated() {
            var line = raw[...]
            // toml++ skips a UTF-8 byte-order mark at the start of the text.
            if index == 0, line.starts(with: [0xEF, 0xBB, 0xBF]) { line = line.dropFirst(3) }
            line = line.drop(while: { $0 == space || $0 == tab })
            guard line.first == open else { continue }
            line = line.dropFirst()
            if line.first == open { line = line.dropFirst() }
            line = line.drop(while: { $0 == space || $0 == tab })
            // Nothing after the brackets ("[[" then the line's end) trips the same assertion.
            let first = line.first ?? UInt8(ascii: "\n")
            switch first {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "]"):
                continue
            default:
                let shown = String(decoding: raw, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                return (index + 1, "a table header must be [name] or [[name]], with a name of letters, digits, _ or - (or quoted): '\(shown)'")
            }
        }
        return nil
    }
}

import Foundation
