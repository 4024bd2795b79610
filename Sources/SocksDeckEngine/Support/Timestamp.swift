import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The timestamps SocksDeck writes: ISO 8601 in UTC for logs and JSON, HH:MM:SS local for the TUI.
///
/// Written by hand on gmtime_r/localtime_r rather than with a DateFormatter: making a formatter
/// loads ICU's locale data (about 30 % of `serve`'s CPU when it made one per log line), and a
/// formatter is not Sendable, so it cannot be made once and shared between event loops.
package enum Timestamp {
    /// "2026-12-02T15:39:50Z", or with `fractional`, "2026-12-02T15:39:50.123Z": the forms of
    /// ISO8601DateFormatter's `.withInternetDateTime` (and `.withFractionalSeconds`), and of
    /// JSONEncoder's `.iso8601`, milliseconds rounded as the formatter rounds them.
    package static func iso8601(_ date: Date, fractional: Bool = false) -> String {
        // Whole milliseconds first, so that 0.123 (0.12299… in binary) is .123, as the formatter has it.
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let (whole, fraction) = milliseconds.quotientAndRemainder(dividingBy: 1000)
        var seconds = time_t(fraction < 0 ? whole - 1 : whole)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var text = "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))"
        text += "T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
        if fractional {
            let thousandths = Int32(fraction < 0 ? fraction + 1000 : fraction)
            text += "." + (thousandths < 100 ? "0" : "") + two(thousandths)
        }
        return text + "Z"
    }

    /// HH:MM:SS in local time: the log pane's column.
    package static func clock(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        localtime_r(&seconds, &parts)
        return "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
    }

    /// The encoding strategy for every JSON line SocksDeck writes (the same text as `.iso8601`).
    package static let jsonStrategy: JSONEncoder.DateEncodingStrategy = .custom { date, encoder in
        var container = encoder.singleValueContainer()
        try container.encode(iso8601(date))
    }

    private static func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
}
