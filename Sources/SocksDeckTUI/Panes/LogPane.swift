import Foundation
import SocksDeckEngine

#if canImport(Glibc)
import Glibc
#endif

/// The engine's events, newest at the bottom, errors decoded; scrolls back with ↑.
public enum LogPane {
    public static func draw(_ model: DeckModel, in rect: Rect, on canvas: Canvas, focused: Bool) {
        canvas.box(
            rect,
            title: PaneID.log.title + (model.logScroll > 0 ? " (↑\(model.logScroll))" : ""),
            focused: focused
        )
        let inner = rect.inner
        guard !inner.isEmpty else { return }
        let end = model.events.count - model.logScroll
        let shown = model.events[max(0, end - inner.height)..<max(end, 0)]
        for (i, e) in shown.enumerated() {
            let role: Role = e.level == .error ? .error : e.level == .warning ? .warning : .text
            let who = e.association.map { "#\($0.value) " } ?? ""
            canvas.put(
                "\(Self.clock(e.time)) \(who)\(e.message)",
                y: inner.y + i,
                x: inner.x,
                width: inner.width,
                role: role,
                pad: true
            )
        }
    }

    /// HH:MM:SS in local time, without a DateFormatter (costly to make, and not Sendable to keep).
    static func clock(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970)
        var parts = tm()
        localtime_r(&t, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
    }
}
