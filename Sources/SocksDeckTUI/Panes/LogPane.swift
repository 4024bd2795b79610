import Foundation
import SocksDeckEngine

#if canImport(Glibc)
import Glibc
#endif

/// The engine's events, newest at the bottom, errors decoded; scrolls back with ↑.
enum LogPane {
    static func draw(_ model: DeckModel, in rect: Rect, on canvas: Canvas, focused: Bool) {
        canvas.box(
            rect,
            title: PaneID.log.title + (model.logScroll > 0 ? " (↑\(model.logScroll))" : ""),
            focused: focused
        )
        let inner = rect.inner
        guard !inner.isEmpty else { return }
        let shown = model.logLines(upTo: model.logCount - model.logScroll, count: inner.height)
        for (i, e) in shown.enumerated() {
            let role: Role = e.level == .error ? .error : e.level == .warning ? .warning : .text
            let who = e.association.map { "#\($0.value) " } ?? ""
            canvas.put(
                "\(Timestamp.clock(e.time)) \(who)\(e.message)",
                y: inner.y + i,
                x: inner.x,
                width: inner.width,
                role: role,
                pad: true
            )
        }
    }

}
