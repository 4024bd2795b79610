import SocksDeckEngine

/// The status line, the help overlay and the send form: drawn over the panes.
enum StatusLine {
    static func draw(_ model: DeckModel, y: Int, width: Int, on canvas: Canvas) {
        if let question = model.confirmation?.question {
            canvas.put(" " + question, y: y, x: 0, width: width, role: .warning, pad: true)
            return
        }
        if let message = model.message {
            canvas.put(
                " " + message.text,
                y: y,
                x: 0,
                width: width,
                role: message.role == .text ? .status : message.role,
                pad: true
            )
            return
        }
        // Whole hints only, as many as fit: a hint cut mid-phrase reads as another key. The line is
        // the screen's last, whose last cell a terminal cannot take (it would scroll): one less.
        var line = ""
        for hint in KeyTable.hints(for: model.focused) {
            let next = line.isEmpty ? " " + hint : line + "  " + hint
            guard displayWidth(next) < width else { break }
            line = next
        }
        canvas.put(line, y: y, x: 0, width: width, role: .status, pad: true)
    }
}

enum HelpOverlay {
    /// Written from the key table itself, so the help cannot disagree with the keys.
    static func lines() -> [String] {
        var out: [String] = []
        for (title, pane) in [("Everywhere", nil), ("Servers", PaneID.servers), ("Associations", PaneID.associations)]
            as [(String, PaneID?)]
        {
            out.append(title)
            for b in KeyTable.all where b.pane == pane {
                out.append("  " + fit(b.keys.map(\.description).joined(separator: " / "), 14, pad: true) + b.help)
            }
        }
        out.append("")
        out.append("↑/↓ PgUp/PgDn scroll; ? or Esc closes.")
        return out
    }

    static func styled() -> [(String, Role)] { lines().map { ($0, $0.hasPrefix("  ") || $0.isEmpty ? .text : .title) } }

    static func draw(scroll: Int, on canvas: Canvas, in rect: Rect) {
        TextOverlay.draw(title: "Keys", styled(), scroll: scroll, on: canvas, in: rect)
    }
}

/// A capability probe's findings in full, as `socksdeck probe` prints them: each with its verdict,
/// value and evidence.
enum FindingsOverlay {
    static func styled(_ findings: [ProbeFinding]) -> [(String, Role)] {
        var out: [(String, Role)] = []
        for f in findings {
            let (mark, role): (String, Role) =
                switch f.verdict {
                case .yes: ("✔", .ok)
                case .no: ("✘", .warning)
                case .info: ("·", .accent)
                case .skipped: ("-", .muted)
                }
            out.append(("\(mark) \(f.title): \(f.value)", role))
            out.append(("  \(f.evidence)", .text))
        }
        out.append(("", .text))
        out.append(
            (
                "↑/↓ PgUp/PgDn scroll; Esc closes. socksdeck probe SERVER --json gives the same as JSON.",
                .muted
            )
        )
        return out
    }

    static func draw(server: String, findings: [ProbeFinding], scroll: Int, on canvas: Canvas, in rect: Rect) {
        TextOverlay.draw(title: "Probe of \(server)", styled(findings), scroll: scroll, on: canvas, in: rect)
    }
}

/// A modal form over the panes: one row per field, the active one highlighted, and at the
/// bottom either what is wrong with a field or the keys.
enum FormOverlay {
    static func draw(
        title: String,
        _ fields: FormFields,
        footer: String,
        on canvas: Canvas,
        in rect: Rect,
        width: Int = 64
    ) {
        let width = min(width, rect.width)
        let height = min(fields.names.count + 4, rect.height)
        let box = Rect(
            y: rect.y + (rect.height - height) / 2,
            x: rect.x + (rect.width - width) / 2,
            height: height,
            width: width
        )
        for row in 0..<box.height { canvas.put("", y: box.y + row, x: box.x, width: box.width, role: .text, pad: true) }
        canvas.box(box, title: title, focused: true)
        let labelWidth = max(fields.names.map(displayWidth).max() ?? 0, 12) + 2
        for (i, name) in fields.names.enumerated() where i < box.height - 3 {
            let active = i == fields.field
            canvas.put(
                fit(name, labelWidth, pad: true) + fields.shown(i),
                y: box.y + 1 + i,
                x: box.x + 2,
                width: box.width - 4,
                role: active ? .selection : .text,
                pad: true
            )
        }
        let y = box.y + box.height - 2
        if let problem = fields.problem {
            canvas.put(
                "✘ \(fields.names[problem.field]): \(problem.message)",
                y: y,
                x: box.x + 2,
                width: box.width - 4,
                role: .error,
                pad: true
            )
        } else {
            canvas.put(footer, y: y, x: box.x + 2, width: box.width - 4, role: .muted)
        }
    }
}

enum SendFormOverlay {
    static func draw(_ form: SendRequest, association: String, on canvas: Canvas, in rect: Rect) {
        FormOverlay.draw(
            title: "Send through \(association)",
            form.fields,
            footer: "Tab next field · Enter send · Esc cancel",
            on: canvas,
            in: rect
        )
    }
}
