import Foundation
import SocksDeckEngine

/// A `watch` event as its JSON line and text line say it: the engine's typed event flattened to
/// the keys `watch --json` has always had (an `event` name, optional figures).
struct WatchEventJSON: Encodable {
    var time: Date
    var event: String
    var server: String
    var association: Int?
    var state: String?
    var reason: String?
    var rendezvous: String?
    var datagramsSent: Int?
    var datagramsReceived: Int?
    var probesLost: Int?
    var rttP50Ms: Double?
    var reconnects: Int?
    var checkAnswered: Int?
    var checkLost: Int?
    var checkRttMs: Double?
    var checkFailure: String?

    init(_ e: WatchEvent) {
        (time, server) = (e.time, e.server)
        switch e.what {
        case .opening(let id):
            (event, association, state) = ("opening", id.value, "connecting")
        case .associated(let id, let rendezvous, let watching):
            (event, association, state) = ("associated", id.value, "associated")
            (self.rendezvous, reason) = (rendezvous?.asUsed.description, watching)
        case .ended(let id, let ended, let why, let reconnectIn):
            (event, association, state) = (ended.name, id.value, ended.name)
            reason = Self.withoutFinalStop(why) + "; reconnecting in \(Int(reconnectIn / .seconds(1))) s"
        case .interval(let f):
            (event, association) = ("interval", f.association?.value)
            state = f.state?.name ?? (f.connecting ? "connecting" : "down")
            (datagramsSent, datagramsReceived, probesLost) = (f.datagramsSent, f.datagramsReceived, f.probesLost)
            (rttP50Ms, reconnects) = (f.rttP50?.milliseconds, f.reconnects)
            if let c = f.check {
                (checkAnswered, checkLost) = (c.answered, c.lost)
                (checkRttMs, checkFailure) = (c.lastRoundTrip?.milliseconds, c.failure)
            }
        }
    }

    /// A sentence with a clause after it: "(REP 7); reconnecting", not "(REP 7).; reconnecting".
    static func withoutFinalStop(_ sentence: String) -> String {
        sentence.hasSuffix(".") ? String(sentence.dropLast()) : sentence
    }
}
