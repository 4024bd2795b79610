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
        // Bytes, not Characters: toml++ reads code points, and a "[" followed by a combining
        // mark is one Character in Swift (found by the fuzzer too).
        let space = UInt8(ascii: " "), tab = UInt8(ascii: "\t"), open = UInt8(ascii: "[")
        // The multi-line string ("""…""" or '''…''') open at the start of the line, if any:
        // lines inside one are text, not headers.
        var openString: String? = nil
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let startsInsideString = openString != nil
            for delimiter in ["\"\"\"", "'''"] where openString == nil || openString == delimiter {
                if raw.components(separatedBy: delimiter).count % 2 == 0 { openString = openString == nil ? delimiter : nil }
            }
            var line = raw.utf8.drop(while: { $0 == space || $0 == tab })
            guard !startsInsideString, line.first == open else { continue }
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
                return (index + 1, "a table header must be [name] or [[name]], with a name of letters, digits, _ or - (or quoted): '\(raw.trimmingCharacters(in: .whitespaces))'")
            }
        }
        return nil
    }
}

import Foundation
