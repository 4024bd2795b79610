import Foundation
import Socks5
import SocksDeckEngine
import UDPChecks

/// One of a forward flow's recent datagrams in words: decoded by the protocol it carries (DNS,
/// STUN, NTP, QUIC), and for a reply that answers a request kept before it, the round trip.
struct DecodedFlowDatagram: Equatable, Sendable {
    var datagram: ForwardedDatagram
    /// `ApplicationDatagram`'s one line; nil for bytes of no protocol SocksDeck reads.
    var summary: String?
    var roundTrip: Duration?

    /// `recent` oldest first, as the engine keeps them; `targetPort` decides between readings the
    /// bytes fit both of. A reply is paired with the latest request of the same exchange key.
    static func decode(_ recent: [ForwardedDatagram], targetPort: UInt16?) -> [DecodedFlowDatagram] {
        var asked: [ApplicationDatagram.ExchangeKey: Date] = [:]
        var quicSeen = false
        return recent.map { datagram in
            let decoded = ApplicationDatagram.recognise(datagram.bytes, port: targetPort, quicSeen: quicSeen)
            if case .quicLongHeader? = decoded { quicSeen = true }
            var roundTrip: Duration?
            if let decoded, let key = decoded.exchangeKey {
                switch datagram.direction {
                case .request where decoded.isRequest:
                    asked[key] = datagram.time
                case .reply where !decoded.isRequest:
                    roundTrip = asked.removeValue(forKey: key).map { .seconds(datagram.time.timeIntervalSince($0)) }
                default:
                    break
                }
            }
            return DecodedFlowDatagram(datagram: datagram, summary: decoded?.summary, roundTrip: roundTrip)
        }
    }

    /// "12:00:01.236 ← 49 B DNS answer … · RTT 1.92 ms"; bytes of no known protocol as their
    /// first sixteen in hex.
    var line: String {
        let arrow = datagram.direction == .request ? "→" : "←"
        var text = "\(Self.clock(datagram.time)) \(arrow) \(datagram.size) B "
        if let summary {
            text += summary
        } else {
            let shown = datagram.bytes.prefix(16)
            text += shown.isEmpty ? "(empty)" : hexDump(shown) + (datagram.size > shown.count ? " …" : "")
        }
        if let roundTrip { text += String(format: " · RTT %.2f ms", roundTrip.milliseconds) }
        return text
    }

    /// HH:MM:SS.mmm in local time.
    static func clock(_ date: Date) -> String {
        let milliseconds = Int((date.timeIntervalSince1970 * 1000).rounded(.down)) % 1000
        let padded = String(repeating: "0", count: milliseconds < 10 ? 2 : milliseconds < 100 ? 1 : 0)
        return Timestamp.clock(date) + "." + padded + "\(milliseconds)"
    }
}
