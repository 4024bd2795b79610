import Foundation
import SocksDeckEngine

#if canImport(Glibc)
import Glibc
#endif

/// The engine's events and the UI's own notes, newest at the bottom, errors decoded; scrolls back with ↑.
public enum LogPane {
    public static func draw(_ model: DeckModel, in rect: Rect, on canvas: Canvas, focused: Bool) {
        canvas.box(
            rect,
            title: PaneID.log.title + (model.logScroll > 0 ? " (↑\(model.logScroll))" : ""),
            focused: focused
        )
        let inner = rect.inner
        guard !inner.isEmpty else { return }
        for (i, line) in lines(model, count: inner.height).enumerated() {
            let role: Role = line.level == .error ? .error : line.level == .warning ? .warning : .text
            let who = line.association.map { "#\($0.value) " } ?? ""
            canvas.put(
                "\(Timestamp.clock(line.time)) \(who)\(line.message)",
                y: inner.y + i,
                x: inner.x,
                width: inner.width,
                role: role,
                pad: true
            )
        }
    }

    /// One line of the log: an engine event or a note of the UI's.
    struct Line: Equatable {
        var time: Date
        var level: EngineEvent.Level
        var association: AssociationID?
        var message: String
    }

    /// The `count` lines that end `logScroll` lines up from the newest, oldest first: the
    /// engine's events and the UI's notes by time. Only those shown are merged (the log holds
    /// thousands of events and the UI a few notes).
    static func lines(_ model: DeckModel, count: Int) -> [Line] {
        var (event, note) = (model.events.count, model.notes.count)
        var newestFirst: [Line] = []
        let wanted = max(count, 0) + max(model.logScroll, 0)
        while newestFirst.count < wanted, event > 0 || note > 0 {
            let takeNote = event == 0 || (note > 0 && model.notes[note - 1].time >= model.events[event - 1].time)
            if takeNote {
                note -= 1
                let n = model.notes[note]
                newestFirst.append(Line(time: n.time, level: n.level, association: nil, message: n.message))
            } else {
                event -= 1
                let e = model.events[event]
                newestFirst.append(Line(time: e.time, level: e.level, association: e.association, message: e.message))
            }
        }
        return newestFirst.dropFirst(max(model.logScroll, 0)).reversed()
    }
}
