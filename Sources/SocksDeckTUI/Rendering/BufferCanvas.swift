/// A canvas in memory: the screen as lines of text, and the role of each cell. What the tests
/// render panes to. Like the terminal's, it leaves the bottom-right cell unwritten, so that a
/// test sees what the terminal would cut there.
final class BufferCanvas: Canvas {
    let height: Int
    let width: Int
    private var cells: [[Character]]
    private var roles: [[Role]]

    init(height: Int, width: Int) {
        self.height = height
        self.width = width
        cells = Array(repeating: Array(repeating: " ", count: width), count: height)
        roles = Array(repeating: Array(repeating: .text, count: width), count: height)
    }

    func clear() {
        cells = Array(repeating: Array(repeating: " ", count: width), count: height)
        roles = Array(repeating: Array(repeating: .text, count: width), count: height)
    }

    func put(_ text: String, y: Int, x: Int, width: Int?, role: Role, pad: Bool) {
        guard y >= 0, y < height, x >= 0, x < self.width else { return }
        let room = min(width ?? (self.width - x), self.width - x)
        let usable = (y == height - 1 && x + room >= self.width) ? room - 1 : room
        var column = x
        for ch in fit(text, usable, pad: pad) {
            let w = max(cellWidth(ch), 1)
            guard column < self.width else { break }
            cells[y][column] = ch
            roles[y][column] = role
            if w == 2, column + 1 < self.width {
                cells[y][column + 1] = "\u{0}"
                roles[y][column + 1] = role
            }
            column += w
        }
    }

    var lines: [String] { cells.map { String($0.filter { $0 != "\u{0}" }) } }
    var text: String { lines.joined(separator: "\n") }
    func role(y: Int, x: Int) -> Role { roles[y][x] }
    /// The character in one cell (the right half of a wide character reads as NUL).
    func character(y: Int, x: Int) -> Character { cells[y][x] }
}
