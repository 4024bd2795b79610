/// A rectangle of the screen, in character cells.
public struct Rect: Equatable, Sendable {
    public var y, x, height, width: Int
    public init(y: Int, x: Int, height: Int, width: Int) {
        self.y = y
        self.x = x
        self.height = max(height, 0)
        self.width = max(width, 0)
    }
    public var isEmpty: Bool { height <= 0 || width <= 0 }
    public func contains(y: Int, x: Int) -> Bool {
        (self.y..<self.y + height).contains(y) && (self.x..<self.x + width).contains(x)
    }
    /// The inside of a box drawn on this rectangle.
    public var inner: Rect { Rect(y: y + 1, x: x + 1, height: height - 2, width: width - 2) }
}

/// Where panes draw. NcursesCanvas puts it on the terminal; BufferCanvas keeps it as text, for
/// tests. Panes know nothing else about the screen.
public protocol Canvas: AnyObject {
    var height: Int { get }
    var width: Int { get }
    /// Writes `text` at (y, x), cut to `width` display cells (default: to the edge), padded
    /// with spaces to `width` when `pad` is set.
    func put(_ text: String, y: Int, x: Int, width: Int?, role: Role, pad: Bool)
    func clear()
}

extension Canvas {
    public func put(_ text: String, y: Int, x: Int, width: Int? = nil, role: Role = .text, pad: Bool = false) {
        put(text, y: y, x: x, width: width, role: role, pad: pad)
    }

    /// A box with a title; the focused pane's is drawn in the title role.
    public func box(_ rect: Rect, title: String, focused: Bool, role: Role = .border) {
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

/// Display width of text: wide characters (CJK, emoji) take two cells, combining marks and
/// controls none. By hand rather than wcwidth(3), whose answer depends on the process locale
/// (every non-ASCII character is -1 under "C", as in the tests); the ranges are Unicode's East
/// Asian Wide/Fullwidth blocks, which is what terminals go by.
public func displayWidth(_ text: String) -> Int {
    text.unicodeScalars.reduce(0) { $0 + cellWidth($1.value) }
}

func cellWidth(_ v: UInt32) -> Int {
    if v < 0x20 || (0x7F..<0xA0).contains(v) { return 0 }
    if (0x0300...0x036F).contains(v) || (0x200B...0x200F).contains(v) || (0xFE00...0xFE0F).contains(v) { return 0 }
    let wide: [ClosedRange<UInt32>] = [
        0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
        0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
        0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD,
    ]
    return wide.contains { $0.contains(v) } ? 2 : 1
}

/// Cuts text to `width` cells (with an ellipsis when cut), padding with spaces if asked.
public func fit(_ text: String, _ width: Int, pad: Bool = false) -> String {
    guard width > 0 else { return "" }
    var out = ""
    var used = 0
    let total = displayWidth(text)
    let limit = total > width ? width - 1 : width
    for ch in text {
        let w = displayWidth(String(ch))
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
