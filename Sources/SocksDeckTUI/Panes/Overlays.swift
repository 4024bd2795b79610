/// The status line, the help overlay and the send form: drawn over the panes.
public enum StatusLine {
    public static func draw(_ model: DeckModel, y: Int, width: Int, on canvas: Canvas) {
        if let message = model.message {
            canvas.put(" " + message.text, y: y, x: 0, width: width, role: message.role == .text ? .status : message.role, pad: true)
            return
        }
        // Whole hints only, as many as fit: a hint cut mid-phrase reads as another key.
        var line = ""
        for hint in KeyTable.hints(for: model.focused) {
            let next = line.isEmpty ? " " + hint : line + "  " + hint
            guard displayWidth(next) <= width else { break }
            line = next
        }
        canvas.put(line, y: y, x: 0, width: width, role: .status, pad: true)
    }
}

public enum HelpOverlay {
    /// Written from the key table itself, so the help cannot disagree with the keys.
    public static func lines() -> [String] {
        var out: [String] = []
        for (title, pane) in [("Everywhere", nil), ("Servers", PaneID.servers), ("Associations", PaneID.associations)] as [(String, PaneID?)] {
            out.append(title)
            for b in KeyTable.all where b.pane == pane {
                out.append("  " + fit(b.keys.map(\.description).joined(separator: " / "), 14, pad: true) + b.help)
            }
        }
        out.append("")
        out.append("Press ? or Esc to close.")
        return out
    }

    public static func draw(on canvas: Canvas, in rect: Rect) {
        let content = lines()
        let height = min(content.count + 2, rect.height)
        let width = min(max(content.map(displayWidth).max() ?? 0, 30) + 4, rect.width)
        let box = Rect(y: rect.y + (rect.height - height) / 2, x: rect.x + (rect.width - width) / 2, height: height, width: width)
        for row in 0..<box.height { canvas.put("", y: box.y + row, x: box.x, width: box.width, role: .text, pad: true) }
        canvas.box(box, title: "Keys", focused: true)
        for (i, line) in content.prefix(box.height - 2).enumerated() {
            canvas.put(line, y: box.y + 1 + i, x: box.x + 2, width: box.width - 4, role: line.hasPrefix("  ") ? .text : .title)
        }
    }
}

public enum SendFormOverlay {
    public static func draw(_ form: SendRequest, association: String, on canvas: Canvas, in rect: Rect) {
        let width = min(64, rect.width)
        let height = min(SendRequest.fieldNames.count + 4, rect.height)
        let box = Rect(y: rect.y + (rect.height - height) / 2, x: rect.x + (rect.width - width) / 2, height: height, width: width)
        for row in 0..<box.height { canvas.put("", y: box.y + row, x: box.x, width: box.width, role: .text, pad: true) }
        canvas.box(box, title: "Send through \(association)", focused: true)
        for (i, name) in SendRequest.fieldNames.enumerated() where i < box.height - 3 {
            let active = i == form.field
            canvas.put(fit(name, 14, pad: true) + form.shown(i), y: box.y + 1 + i, x: box.x + 2, width: box.width - 4,
                       role: active ? .selection : .text, pad: true)
        }
        if let problem = form.problem {
            let y = box.y + box.height - 2
            canvas.put("✘ \(SendRequest.fieldNames[problem.field]): \(problem.message)", y: y, x: box.x + 2,
                       width: box.width - 4, role: .error, pad: true)
            return
        }
        canvas.put("Tab next field · Enter send · Esc cancel", y: box.y + box.height - 2, x: box.x + 2, width: box.width - 4, role: .muted)
    }
}
