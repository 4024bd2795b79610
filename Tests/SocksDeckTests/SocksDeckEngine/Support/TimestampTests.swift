import Foundation
import SocksDeckEngine
import Testing

@Suite struct TimestampTests {
    /// Instants that exercise padding, month and year ends, leap days, before 1970 and fractions.
    static let instants: [TimeInterval] = [
        0, 1, 59.999, 951_782_400, 1_709_164_799.5, 1_796_218_790.123, 1_798_761_599.9994, 1_798_761_599.9996, 7.0005,
        -1.25, -0.0004, -86_400,
    ]

    @Test(arguments: instants) func matchesFoundationsFormatter(_ seconds: TimeInterval) {
        let date = Date(timeIntervalSince1970: seconds)
        let plain = ISO8601DateFormatter()
        #expect(Timestamp.iso8601(date) == plain.string(from: date))
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        #expect(Timestamp.iso8601(date, fractional: true) == fractional.string(from: date))
    }

    @Test func jsonMatchesTheISO8601Strategy() throws {
        struct Line: Encodable { var time: Date }
        let line = Line(time: Date(timeIntervalSince1970: 1_796_218_790.75))
        let standard = JSONEncoder()
        standard.dateEncodingStrategy = .iso8601
        let ours = JSONEncoder()
        ours.dateEncodingStrategy = Timestamp.jsonStrategy
        #expect(try ours.encode(line) == standard.encode(line))
    }

    @Test func clockIsLocalTime() {
        let date = Date(timeIntervalSince1970: 1_796_218_790)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "HH:mm:ss"
        #expect(Timestamp.clock(date) == formatter.string(from: date))
    }
}
