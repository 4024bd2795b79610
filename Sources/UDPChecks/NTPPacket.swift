/// An NTP client request and the server's reply (RFC 5905, client mode), sans-I/O, and the clock
/// offset and round-trip delay from the four timestamps. What `socksdeck check --ntp` sends
/// through a relay: a relay that passes NTP answers with mode 4 and our transmit timestamp
/// echoed as the originate timestamp.
package struct NTPTimestamp: Hashable, Sendable, Comparable {
    /// Seconds since 1900-01-01 and the fraction of a second, in 1/2^32 units.
    package var seconds: UInt32
    package var fraction: UInt32

    package init(seconds: UInt32, fraction: UInt32) {
        self.seconds = seconds
        self.fraction = fraction
    }

    /// From Unix time (seconds since 1970): NTP's era 0 starts 2,208,988,800 s earlier.
    package init(unixTime: Double) {
        let ntp = unixTime + 2_208_988_800
        seconds = UInt32(truncatingIfNeeded: Int64(ntp.rounded(.down)))
        fraction = UInt32(min((ntp - ntp.rounded(.down)) * 4_294_967_296, 4_294_967_295))
    }

    /// Seconds, as a Double, on NTP's scale.
    package var value: Double { Double(seconds) + Double(fraction) / 4_294_967_296 }

    /// Seconds since 1970 (a `Date`'s `timeIntervalSince1970`), undoing `init(unixTime:)`.
    package var unixTime: Double { Double(unixSeconds) + Double(fraction) / 4_294_967_296 }

    /// Whole seconds since 1970. A timestamp whose top bit is 0 is taken to be in era 1, from
    /// 2036 (RFC 4330 §3): 32 bits of seconds wrap then, and no clock runs before 1968.
    var unixSeconds: Int64 {
        Int64(seconds) + (seconds & 0x8000_0000 == 0 ? 1 << 32 : 0) - 2_208_988_800
    }

    package static func < (a: NTPTimestamp, b: NTPTimestamp) -> Bool {
        (a.seconds, a.fraction) < (b.seconds, b.fraction)
    }

    var bytes: [UInt8] {
        [seconds >> 24, seconds >> 16, seconds >> 8, seconds, fraction >> 24, fraction >> 16, fraction >> 8, fraction]
            .map { UInt8(truncatingIfNeeded: $0) }
    }
}

package struct NTPRequest: Equatable, Sendable {
    /// The client's transmit timestamp: the server copies it into its reply's originate field,
    /// which is how a reply is matched to its request (and a spoofed one refused).
    package var transmit: NTPTimestamp
    package var version: UInt8 = 4

    package init(transmit: NTPTimestamp) { self.transmit = transmit }

    package func encoded() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 48)
        out[0] = version << 3 | 3  // LI 0, VN, mode 3 (client)
        out.replaceSubrange(40..<48, with: transmit.bytes)
        return out
    }
}

package struct NTPResponse: Equatable, Sendable {
    package var leap: UInt8
    package var version: UInt8
    package var mode: UInt8
    package var stratum: UInt8
    package var poll: Int8
    package var precision: Int8
    package var referenceID: [UInt8]
    package var reference: NTPTimestamp
    package var originate: NTPTimestamp
    package var receive: NTPTimestamp
    package var transmit: NTPTimestamp

    package static func parse(_ bytes: [UInt8]) throws(NTPError) -> NTPResponse {
        guard bytes.count >= 48 else { throw .tooShort(bytes.count) }
        func timestamp(_ at: Int) -> NTPTimestamp {
            func u32(_ i: Int) -> UInt32 { bytes[i..<i + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) } }
            return NTPTimestamp(seconds: u32(at), fraction: u32(at + 4))
        }
        return NTPResponse(
            leap: bytes[0] >> 6,
            version: bytes[0] >> 3 & 7,
            mode: bytes[0] & 7,
            stratum: bytes[1],
            poll: Int8(bitPattern: bytes[2]),
            precision: Int8(bitPattern: bytes[3]),
            referenceID: Array(bytes[12..<16]),
            reference: timestamp(16),
            originate: timestamp(24),
            receive: timestamp(32),
            transmit: timestamp(40)
        )
    }

    /// The mode in words (RFC 5905 §7.3): "client", "server", "symmetric active", "broadcast"….
    package var modeName: String {
        let names = [
            "reserved mode 0", "symmetric active", "symmetric passive", "client", "server", "broadcast", "control",
            "private",
        ]
        return names[Int(mode & 7)]
    }

    /// Whether what follows the 48-byte header is what NTP puts there: nothing, a MAC (a 4-byte
    /// key id and a 16- or 20-byte digest, RFC 5905 §7.3), or extension fields (RFC 7822: each at
    /// least 16 bytes, a multiple of 4, its length in its own header) and then perhaps a MAC.
    static func hasWellFormedTail(_ bytes: [UInt8]) -> Bool {
        var at = 48
        while true {
            let rest = bytes.count - at
            if rest == 0 || rest == 20 || rest == 24 { return true }
            guard rest >= 16 else { return false }
            let length = Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
            guard length >= 16, length % 4 == 0, length <= rest else { return false }
            at += length
        }
    }

    /// A kiss-o'-death (stratum 0): the server's four-letter code ("RATE", "DENY", "RSTR"), which
    /// says why it refuses to give the time.
    package var kissCode: String? {
        guard stratum == 0 else { return nil }
        return String(decoding: referenceID.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// The reference id in words: four ASCII letters for stratum 1 (a clock: "GPS", "PPS"), an
    /// IPv4 address (or the first bytes of an IPv6 one's hash) above.
    package var referenceText: String {
        if stratum <= 1 { return String(decoding: referenceID.prefix { $0 != 0 }, as: UTF8.self) }
        return referenceID.map(String.init).joined(separator: ".")
    }

    /// Why this is not a server's answer to `request`, or nil when it is.
    package func problem(answering request: NTPRequest) -> String? {
        if mode == 3 && transmit == request.transmit {
            return "our own request came back unchanged (mode 3, our transmit timestamp): an echo, not NTP"
        }
        if let kiss = kissCode { return "kiss-o'-death \(kiss): the server refuses to give the time (RFC 5905 §7.4)" }
        if mode != 4 && mode != 5 { return "mode \(mode), not a server's reply (4)" }
        if originate != request.transmit {
            return "its originate timestamp is not our transmit timestamp: not our reply"
        }
        if transmit.seconds == 0 { return "its transmit timestamp is 0: the server has no time to give" }
        return nil
    }

    /// The clock offset and round-trip delay (RFC 5905 §8), in seconds: `sent` (T1) and
    /// `arrived` (T4) are our clock's, receive (T2) and transmit (T3) the server's.
    package func offsetAndDelay(sent: NTPTimestamp, arrived: NTPTimestamp) -> (offset: Double, delay: Double) {
        let t1 = sent.value
        let t2 = receive.value
        let t3 = transmit.value
        let t4 = arrived.value
        return (((t2 - t1) + (t3 - t4)) / 2, (t4 - t1) - (t3 - t2))
    }
}

package enum NTPError: Error, Equatable, Sendable, CustomStringConvertible {
    case tooShort(Int)

    package var description: String {
        switch self {
        case .tooShort(let n): "\(n) bytes: an NTP packet has at least 48"
        }
    }
}
