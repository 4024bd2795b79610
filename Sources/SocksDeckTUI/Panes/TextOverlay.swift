/// A box of text over the panes that scrolls: the help, a probe's findings. Lines are wrapped to
/// the box, which is as wide as the longest line allows (at most the screen); the bottom border
/// says how much is above and below.
enum TextOverlay {
    struct Geometry: Equatable {
        var box: Rect
        var wrapped: [(text: String, role: Role)]
        /// Lines the box shows at once.
        var rows: Int
        var maximumScroll: Int { max(wrapped.count - rows, 0) }

        static func == (a: Geometry, b: Geometry) -> Bool {
            a.box == b.box && a.rows == b.rows && a.wrapped.map(\.text) == b.wrapped.map(\.text)
        }
    }

    static func geometry(_ lines: [(String, Role)], in rect: Rect, minimumWidth: Int = 30) -> Geometry {
        let widest = lines.map { displayWidth($0.0) }.max() ?? 0
        let width = min(max(widest, minimumWidth) + 4, rect.width)
        let wrapped = lines.flatMap { line, role in
            wrap(line, width: max(width - 4, 1), indent: line.hasPrefix("  ") ? 4 : 2).map { ($0, role) }
        }
        let height = min(wrapped.count + 2, rect.height)
        let box = Rect(
            y: rect.y + (rect.height - height) / 2,
            x: rect.x + (rect.width - width) / 2,
            height: height,
            width: width
        )
        return Geometry(box: box, wrapped: wrapped, rows: max(height - 2, 0))
    }

    static func draw(title: String, _ lines: [(String, Role)], scroll: Int, on canvas: Canvas, in rect: Rect) {
        let g = geometry(lines, in: rect)
        let box = g.box
        for row in 0..<box.height { canvas.put("", y: box.y + row, x: box.x, width: box.width, role: .text, pad: true) }
        canvas.box(box, title: title, focused: true)
        let first = min(max(scroll, 0), g.maximumScroll)
        for (i, line) in g.wrapped.dropFirst(first).prefix(g.rows).enumerated() {
            canvas.put(line.text, y: box.y + 1 + i, x: box.x + 2, width: box.width - 4, role: line.role)
        }
        let below = g.wrapped.count - first - g.rows
        if first > 0 || below > 0, box.width > 12 {
            let marks = (first > 0 ? " ↑\(first)" : "") + (below > 0 ? " ↓\(below)" : "") + " "
            canvas.put(marks, y: box.y + box.height - 1, x: box.x + box.width - 2 - displayWidth(marks), role: .title)
        }
    }
}
