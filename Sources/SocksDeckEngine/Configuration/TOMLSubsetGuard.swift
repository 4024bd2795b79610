import Foundation

/// Checks a TOML text against the subset SocksDeck's files use before TOMLKit parses it.
///
/// toml++ (the C++ parser inside TOMLKit 0.6.0) asserts, and so aborts the whole process, on
/// some malformed input, and SwiftPM compiles it with its assertions on, in release builds too:
/// a typo in a configuration or theme file would crash socksdeck. Fuzz/FuzzDeckConfiguration
/// found three ways in: a table header whose name starts with a character no key starts with
/// (`[[[server]]]`, `[[` alone, `[` and a combining mark), and arrays nested hundreds deep. The
/// files need none of the constructs involved, so the guard refuses what is outside the subset,
/// with the line and a sentence, and toml++ sees only the rest:
/// - a header is `[name]` or `[[name]]` (bare, quoted or dotted names);
/// - values are strings, numbers, booleans, and inline tables of those (themes): no arrays, no
///   multi-line strings (no key takes one).
/// It reads UTF-8 bytes, as toml++ does: "\r\n" is one Character in Swift, and so is "[" with a
/// combining mark after it (both found by the fuzzer).
package enum TOMLSubsetGuard {
    package static func check(_ text: String) -> (line: Int, message: String)? {
        let lines = Array(text.utf8).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for (index, raw) in lines.enumerated() {
            var line = raw[...]
            // toml++ skips a UTF-8 byte-order mark at the start of the text.
            if index == 0, line.starts(with: [0xEF, 0xBB, 0xBF]) { line = line.dropFirst(3) }
            if let problem = problem(in: line) {
                let shown = String(decoding: raw.prefix(80), as: UTF8.self).trimmingCharacters(
                    in: .whitespacesAndNewlines
                )
                return (index + 1, "\(problem): '\(shown)'")
            }
        }
        return nil
    }

    private static let space = UInt8(ascii: " "), tab = UInt8(ascii: "\t")
    private static let quote = UInt8(ascii: "\""), apostrophe = UInt8(ascii: "'"), backslash = UInt8(ascii: "\\")

    private static func isBareKeyByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default: false
        }
    }

    /// What is outside the subset on one line, if anything.
    private static func problem(in line: ArraySlice<UInt8>) -> String? {
        let bytes = Array(line)
        var i = 0
        while i < bytes.count, bytes[i] == space || bytes[i] == tab { i += 1 }
        guard i < bytes.count else { return nil }
        if bytes[i] == UInt8(ascii: "[") { return headerProblem(bytes, from: i) }
        // A key-value line: outside strings and comments, no '[' (an array) may appear.
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "#"):
                return nil
            case quote, apostrophe:
                let q = bytes[i]
                if i + 2 < bytes.count, bytes[i + 1] == q, bytes[i + 2] == q {
                    return "multi-line strings are not used in SocksDeck's files: write the value on one line"
                }
                i += 1
                while i < bytes.count, bytes[i] != q {
                    if q == quote, bytes[i] == backslash { i += 1 }
                    i += 1
                }
                i += 1
            case UInt8(ascii: "["):
                return
                    "arrays are not used in SocksDeck's files: each key takes a string, a number, true/false or "
                    + "(themes) { ... }"
            default:
                i += 1
            }
        }
        return nil
    }

    /// `[name]` or `[[name]]`, names bare, quoted or dotted, then blanks and an optional comment.
    private static func headerProblem(_ bytes: [UInt8], from start: Int) -> String? {
        let wrong = "a table header must be [name] or [[name]], with a name of letters, digits, _ or - (or quoted)"
        var i = start + 1
        let double = i < bytes.count && bytes[i] == UInt8(ascii: "[")
        if double { i += 1 }
        var names = 0
        var expectingName = true
        while true {
            while i < bytes.count, bytes[i] == space || bytes[i] == tab { i += 1 }
            guard i < bytes.count else { return wrong }
            let b = bytes[i]
            if expectingName {
                if isBareKeyByte(b) {
                    while i < bytes.count, isBareKeyByte(bytes[i]) { i += 1 }
                } else if b == quote || b == apostrophe {
                    i += 1
                    while i < bytes.count, bytes[i] != b {
                        if b == quote, bytes[i] == backslash { i += 1 }
                        i += 1
                    }
                    guard i < bytes.count else { return wrong }
                    i += 1
                } else {
                    return wrong
                }
                names += 1
                expectingName = false
            } else if b == UInt8(ascii: ".") {
                i += 1
                expectingName = true
            } else if b == UInt8(ascii: "]") {
                i += 1
                if double {
                    guard i < bytes.count, bytes[i] == UInt8(ascii: "]") else { return wrong }
                    i += 1
                }
                break
            } else {
                return wrong
            }
        }
        while i < bytes.count, bytes[i] == space || bytes[i] == tab || bytes[i] == UInt8(ascii: "\r") { i += 1 }
        guard i == bytes.count || bytes[i] == UInt8(ascii: "#") else {
            return "nothing may follow a table header on its line but a comment"
        }
        return names > 0 ? nil : wrong
    }
}
