#if canImport(Glibc)
import Glibc
#endif

/// A rectangle of the screen, in character cells.
struct Rect: Equatable, Sendable {
    var y, x, height, width: Int
    init(y: Int, x: Int, height: Int, width: Int) {
        self.y = y
        self.x = x
        self.height = max(height, 0)
        self.width = max(width, 0)
    }
    var isEmpty: Bool { height <= 0 || width <= 0 }
    func contains(y: Int, x: Int) -> Bool {
        (self.y..<self.y + height).contains(y) && (self.x..<self.x + width).contains(x)
    }
    /// The inside of a box drawn on this rectangle.
    var inner: Rect { Rect(y: y + 1, x: x + 1, height: height - 2, width: width - 2) }
}

/// Where panes draw. NcursesCanvas puts it on the terminal; BufferCanvas keeps it as text, for
/// tests. Panes know nothing else about the screen.
protocol Canvas: AnyObject {
    var height: Int { get }
    var width: Int { get }
    /// Writes `text` at (y, x), cut to `width` display cells (default: to the edge), padded
    /// with spaces to `width` when `pad` is set. An implementation draws what `fit` gives, never
    /// `text` itself: `fit` is where a control character becomes visible, for every pane at once.
    func put(_ text: String, y: Int, x: Int, width: Int?, role: Role, pad: Bool)
    func clear()
}

extension Canvas {
    func put(_ text: String, y: Int, x: Int, width: Int? = nil, role: Role = .text, pad: Bool = false) {
        put(text, y: y, x: x, width: width, role: role, pad: pad)
    }

    /// A box with a title; the focused pane's is drawn in the title role.
    func box(_ rect: Rect, title: String, focused: Bool, role: Role = .border) {
        guard rect.height >= 2, rect.width >= 4 else { return }
        let horizontal = String(repeating: "─", count: rect.width - 2)
        put("┌" + horizontal + "┐", y: rect.y, x: rect.x, width: rect.width, role: focused ? .title : role)
        for row in 1..<(rect.height - 1) {
            put("│", y: rect.y + row, x: rect.x, width: 1, role: focused ? .title : role)
            put("│", y: rect.y + row, x: rect.x + rect.width - 1, width: 1, role: focused ? .title : role)
        }
        put(
            "└" + horizontal + "┘",
            y: rect.y + rect.height - 1,
            x: rect.x,
            width: rect.width,
            role: focused ? .title : role
        )
        put(" \(title) ", y: rect.y, x: rect.x + 2, width: rect.width - 4, role: .title)
    }
}

/// Display width of text, from glibc's wcwidth(3): what ncurses and the terminal go by. A
/// character with a control in it (wcwidth -1) is never drawn raw: `fit` shows it as U+FFFD, one
/// cell, and it is measured as that. wcwidth answers by the locale's LC_CTYPE, so it is asked
/// under C.UTF-8 on this thread whatever the process locale is (under "C", as in the tests,
/// every non-ASCII character would be -1).
func displayWidth(_ text: String) -> Int {
    UTF8Widths.measuring { text.reduce(0) { $0 + UTF8Widths.width(of: $1) } }
}

/// The width of one character, in cells: the sum of its scalars' wcwidth, or 1 (its replacement)
/// when one of them is a control.
func cellWidth(_ ch: Character) -> Int {
    UTF8Widths.measuring { UTF8Widths.width(of: ch) }
}

/// What is drawn for a character that cannot be: controls (C0 such as tab and escape, DEL, C1)
/// would move the cursor or change the terminal's state. U+FFFD rather than `?`, which a name or
/// payload may really hold, or caret notation (`^[`), which takes two cells and reads as typed.
let replacementCharacter: Character = "\u{FFFD}"

enum UTF8Widths {
    /// A C.UTF-8 LC_CTYPE locale, made once; nil where the system has none (the process
    /// locale is used then, which the TUI sets to UTF-8 at start).
    nonisolated(unsafe) private static let utf8: locale_t? = newlocale(LC_CTYPE_MASK, "C.UTF-8", nil)

    /// glibc's wcwidth(3). Swift's Glibc module leaves it out (it is an X/Open extension), so it
    /// is looked up in the C library already loaded; a C function pointer, so the call is C's.
    static let wcwidth: @convention(c) (wchar_t) -> Int32 = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "wcwidth") else {
            fatalError("the C library has no wcwidth")
        }
        return unsafeBitCast(symbol, to: (@convention(c) (wchar_t) -> Int32).self)
    }()

    /// Runs `body` with wcwidth answering for UTF-8, then puts this thread's locale back.
    static func measuring<T>(_ body: () -> T) -> T {
        guard let utf8 else { return body() }
        let previous = uselocale(utf8)
        defer { uselocale(previous) }
        return body()
    }

    /// Call inside `measuring`.
    static func width(of ch: Character) -> Int {
        if ch.isASCII {
            // Printable ASCII is one cell; tab, newline and the other controls are replaced.
            return 1
        }
        var total = 0
        for scalar in ch.unicodeScalars {
            let w = Int(wcwidth(wchar_t(bitPattern: scalar.value)))
            if w < 0 { return 1 }
            total += w
        }
        return total
    }

    /// Call inside `measuring`: the character, or its replacement when it holds a control.
    static func drawable(_ ch: Character) -> Character {
        if ch.isASCII {
            guard let v = ch.asciiValue, v >= 0x20, v != 0x7F else { return replacementCharacter }
            return ch
        }
        return ch.unicodeScalars.contains { wcwidth(wchar_t(bitPattern: $0.value)) < 0 } ? replacementCharacter : ch
    }
}

/// Cuts text to `width` cells (with an ellipsis when cut), padding with spaces if asked.
func fit(_ text: String, _ width: Int, pad: Bool = false) -> String {
    guard width > 0 else { return "" }
    var out = ""
    var used = 0
    let (shown, total) = UTF8Widths.measuring {
        let shown = text.map(UTF8Widths.drawable)
        return (shown, shown.reduce(0) { $0 + UTF8Widths.width(of: $1) })
    }
    let limit = total > width ? width - 1 : width
    for ch in shown {
        let w = cellWidth(ch)
        if used + w > limit { break }
        out.append(ch)
        used += w
    }
    if total > width {
        out.append("…")
        used += 1
    }
    if pad && used < width { out += String(repeating: " ", count: width - used) }
    return out
}
