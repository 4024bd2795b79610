/// One datagram of an application protocol that `socksdeck forward` relays (dig, NTP clients,
/// QUIC clients, STUN), recognised by its structure and decoded with the codecs of this module,
/// so that a flow's recent datagrams can be shown in words and its requests paired with their
/// responses.
package enum ApplicationDatagram: Sendable, Equatable {
    /// A DNS query (RFC 1035, QR 0): its id and its one question.
    case dnsQuery(id: UInt16, name: String, type: DNSRecordType)
    /// A DNS response: its id, the question it echoes, its RCODE, the first few answer records in
    /// text ("A 127.0.0.1", "CNAME x.") and how many answer records it has in all.
    case dnsResponse(
        id: UInt16,
        name: String,
        type: DNSRecordType,
        code: DNSResponseCode,
        answers: [String],
        answerCount: Int
    )
    /// A STUN message (RFC 8489) of any method: its class, its method's name ("Binding"), its
    /// transaction id, and for a response the mapped address (XOR-MAPPED-ADDRESS, else
    /// MAPPED-ADDRESS) and the ERROR-CODE, when it has them.
    case stun(STUNClass, method: String, transactionID: [UInt8], mapped: STUNAddress?, errorCode: Int?)
    /// An NTP packet (RFC 5905), whole: `modeName`, `version`, `stratum`, and the timestamps from
    /// which `offsetAndDelay(sent:arrived:)` gives the clock offset.
    case ntp(NTPResponse)
    /// The first packet of a datagram with a QUIC long header: its version (0 for Version
    /// Negotiation), its type, and the lengths of its connection ids (the rest is encrypted).
    case quicLongHeader(version: UInt32, type: QUICPacketType, destinationIDLength: Int, sourceIDLength: Int)
    /// A QUIC short-header (1-RTT) packet: nothing in it is readable, and only a flow that has
    /// already shown long headers makes its two bits mean anything.
    case quicShortHeader

    /// A STUN message's class (RFC 8489 §5), in words.
    package enum STUNClass: String, Sendable, CustomStringConvertible {
        case request
        case indication
        case success
        case error

        package var description: String { rawValue }
    }

    /// What a request and its response have in common (DNS id and question, STUN transaction id,
    /// the NTP client's transmit timestamp), for pairing them to measure round trips and losses.
    package struct ExchangeKey: Hashable, Sendable {
        enum Value: Hashable, Sendable {
            case dns(id: UInt16, name: String, type: UInt16)
            case stun([UInt8])
            case ntp(NTPTimestamp)
        }

        let value: Value
    }

    /// The protocols by the ports they are found on, the tie-breaker when bytes fit two.
    enum Family {
        case dns
        case stun
        case ntp
        case quic

        var ports: [UInt16] {
            switch self {
            case .dns: [WellKnownPort.dns, 5353]
            case .stun: [WellKnownPort.stun, 3479, 5349, 19302]
            case .ntp: [WellKnownPort.ntp]
            case .quic: [WellKnownPort.https, 4433, 8443]
            }
        }
    }

    /// At most this many answer records are kept in words: a screen row has room for no more.
    static let answersKept = 4

    /// The protocol `bytes` (one UDP payload) is a datagram of, decoded, or nil when it is none of
    /// them. Recognised by structure alone (STUN's magic cookie and length; a QUIC long header of
    /// a known version; a DNS message whose sections end where the bytes do; a 48-byte NTP header
    /// of a valid version and mode), so that random bytes rarely pass; `port` (the peer's, or the
    /// service's) decides only between readings that both fit. A short-header QUIC packet is
    /// recognised only when `quicSeen` says the flow has already shown QUIC long headers.
    package static func recognise(_ bytes: [UInt8], port: UInt16?, quicSeen: Bool = false) -> ApplicationDatagram? {
        var readings: [ApplicationDatagram] = []
        if let stun = stun(bytes) { readings.append(stun) }
        if let quic = quicLongHeader(bytes) { readings.append(quic) }
        // On a QUIC flow a short header is likelier than a DNS or NTP message that happens to fit.
        if quicSeen, bytes.count >= 21, bytes[0] & 0xC0 == 0x40 { readings.append(.quicShortHeader) }
        if let dns = dns(bytes) { readings.append(dns) }
        if let ntp = ntp(bytes) { readings.append(ntp) }
        guard let port else { return readings.first }
        return readings.first { $0.family.ports.contains(port) } ?? readings.first
    }

    /// Whether this is the asking half of an exchange: a DNS query, a STUN request, an NTP
    /// packet in client mode.
    package var isRequest: Bool {
        switch self {
        case .dnsQuery: true
        case .stun(let messageClass, _, _, _, _): messageClass == .request
        case .ntp(let packet): packet.mode == 3
        case .dnsResponse, .quicLongHeader, .quicShortHeader: false
        }
    }

    /// The key a request shares with its response, or nil for a datagram that pairs with none (a
    /// STUN indication, NTP outside client and server mode, QUIC). An NTP request's key is its
    /// transmit timestamp, a reply's its originate timestamp: the server copies the one into the
    /// other.
    package var exchangeKey: ExchangeKey? {
        switch self {
        case .dnsQuery(let id, let name, let type), .dnsResponse(let id, let name, let type, _, _, _):
            return ExchangeKey(value: .dns(id: id, name: DNSName.canonical(name), type: type.rawValue))
        case .stun(let messageClass, _, let transactionID, _, _):
            return messageClass == .indication ? nil : ExchangeKey(value: .stun(transactionID))
        case .ntp(let packet):
            let stamp = packet.mode == 3 ? packet.transmit : packet.mode == 4 ? packet.originate : nil
            guard let stamp, stamp != NTPTimestamp(seconds: 0, fraction: 0) else { return nil }
            return ExchangeKey(value: .ntp(stamp))
        case .quicLongHeader, .quicShortHeader:
            return nil
        }
    }

    /// One short line in words for a screen row: "DNS query A demo.test (id 0x1a2b)", "STUN
    /// Binding success, mapped 127.0.0.1:40000", "QUIC Initial v1, DCID 8 bytes, SCID 0 bytes".
    package var summary: String {
        switch self {
        case .dnsQuery(let id, let name, let type):
            return "DNS query \(type) \(Self.printable(name)) (id \(Self.hex16(id)))"
        case .dnsResponse(let id, let name, let type, let code, let answers, let answerCount):
            var records = answers.joined(separator: ", ")
            if answerCount > answers.count { records += " +\(answerCount - answers.count) more" }
            if answerCount == 0 && code == .noError { records = "no records" }
            let list = records.isEmpty ? "" : ": " + records
            return "DNS answer \(code) \(type) \(Self.printable(name))\(list) (id \(Self.hex16(id)))"
        case .stun(let messageClass, let method, _, let mapped, let errorCode):
            var line = "STUN \(method) \(messageClass)"
            if let errorCode { line += " \(errorCode)" }
            if let mapped { line += ", mapped \(mapped)" }
            return line
        case .ntp(let packet):
            var line = "NTP \(packet.modeName) v\(packet.version)"
            if packet.mode == 3 { return line }
            if let kiss = packet.kissCode, !kiss.isEmpty, packet.mode == 4 {
                return line + ", kiss-o'-death \(Self.printable(kiss))"
            }
            line += ", stratum \(packet.stratum)"
            let transmit = packet.transmit
            return line + (transmit.seconds == 0 ? ", no time" : ", transmit \(Self.utc(transmit))")
        case .quicLongHeader(let version, let type, let destination, let source):
            let name =
                type == .versionNegotiation
                ? "QUIC version negotiation" : "QUIC \(type) \(QUICVersion.shortName(version))"
            return "\(name), DCID \(destination) bytes, SCID \(source) bytes"
        case .quicShortHeader:
            return "QUIC short header (1-RTT)"
        }
    }

    var family: Family {
        switch self {
        case .dnsQuery, .dnsResponse: .dns
        case .stun: .stun
        case .ntp: .ntp
        case .quicLongHeader, .quicShortHeader: .quic
        }
    }

    // MARK: - The recognisers, each on its protocol's codec

    static func stun(_ bytes: [UInt8]) -> ApplicationDatagram? {
        // A STUN datagram is exactly one message: a length that leaves bytes over is not STUN.
        guard let header = try? STUNHeader.parse(bytes), 20 + header.length == bytes.count else { return nil }
        let messageClass = [STUNClass.request, .indication, .success, .error][Int(header.messageClass & 3)]
        var mapped: STUNAddress?
        var errorCode: Int?
        if messageClass == .success || messageClass == .error {
            var response = STUNResponse(
                kind: messageClass == .success ? .success : .error,
                transactionID: header.transactionID
            )
            // A malformed attribute leaves what was read before it: still STUN, by its cookie.
            try? response.readAttributes(bytes, end: bytes.count)
            mapped = response.mapped
            errorCode = response.errorCode?.code
        }
        return .stun(
            messageClass,
            method: stunMethodName(header.method),
            transactionID: header.transactionID,
            mapped: mapped,
            errorCode: errorCode
        )
    }

    /// RFC 8489's, RFC 3489's, TURN's (RFC 8656) and TURN-TCP's (RFC 6062) methods.
    static func stunMethodName(_ method: UInt16) -> String {
        let names: [UInt16: String] = [
            0x001: "Binding", 0x002: "SharedSecret", 0x003: "Allocate", 0x004: "Refresh", 0x006: "Send", 0x007: "Data",
            0x008: "CreatePermission", 0x009: "ChannelBind", 0x00A: "Connect", 0x00B: "ConnectionBind",
            0x00C: "ConnectionAttempt",
        ]
        return names[method] ?? "method 0x" + String(method, radix: 16)
    }

    static func quicLongHeader(_ bytes: [UInt8]) -> ApplicationDatagram? {
        guard let header = QUICLongHeader.parse(bytes) else { return nil }
        return .quicLongHeader(
            version: header.version,
            type: header.type,
            destinationIDLength: header.destinationConnectionIDLength,
            sourceIDLength: header.sourceConnectionIDLength
        )
    }

    static func dns(_ bytes: [UInt8]) -> ApplicationDatagram? {
        // One question (what every resolver sends), the Z bit 0, opcode QUERY, and sections that
        // end exactly where the datagram does.
        guard bytes.count >= 17, bytes[3] & 0x40 == 0, bytes[4] == 0, bytes[5] == 1,
            let message = try? DNSResponse.parseWhole(bytes), message.opcode == 0, let question = message.question
        else { return nil }
        guard message.isResponse else {
            return message.responseCode == .noError
                ? .dnsQuery(id: message.id, name: question.name, type: question.type) : nil
        }
        return .dnsResponse(
            id: message.id,
            name: question.name,
            type: question.type,
            code: message.responseCode,
            answers: message.answers.prefix(answersKept).map(answerText),
            answerCount: message.answers.count
        )
    }

    /// An answer record as dig shows its type and data: "A 127.0.0.1", "AAAA ::1", "CNAME x.",
    /// and for data not read into words its size, "TYPE65 (12 bytes)".
    static func answerText(_ record: DNSRecord) -> String {
        func absolute(_ name: String) -> String { printable(name == "." ? name : name + ".") }
        switch record.data {
        case .ipv4(let b): return "A " + b.map(String.init).joined(separator: ".")
        case .ipv6(let b): return "AAAA " + DNSRecord.ipv6Text(b)
        case .name(let name): return "\(record.type) \(absolute(name))"
        case .mailExchange(let preference, let name): return "MX \(preference) \(absolute(name))"
        case .text(let strings):
            let text = printable(strings.joined(separator: " "))
            return "TXT \"" + (text.count > 40 ? String(text.prefix(39)) + "…" : text) + "\""
        case .other(let b): return "\(record.type) (\(b.count) bytes)"
        }
    }

    static func ntp(_ bytes: [UInt8]) -> ApplicationDatagram? {
        // Only 48 bytes of mostly free fields, so every field that has a range is held to it:
        // version 1 to 4, a stratum of at most 16 (unsynchronised), a poll exponent in range, and
        // client or server mode, the only ones a relayed flow carries (symmetric and broadcast
        // need a peer that sends first; control and private are other formats). A client's
        // transmit timestamp is what its reply is matched by, and a server with a stratum has the time.
        guard NTPResponse.hasWellFormedTail(bytes), let packet = try? NTPResponse.parse(bytes),
            (1...4).contains(packet.version), packet.mode == 3 || packet.mode == 4, packet.stratum <= 16,
            (-8...17).contains(packet.poll), packet.transmit.seconds != 0 || (packet.mode == 4 && packet.stratum == 0)
        else { return nil }
        return .ntp(packet)
    }

    // MARK: - Words

    static func hex16(_ v: UInt16) -> String {
        let digits = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: 4 - digits.count) + digits
    }

    /// `text` with control characters as `\DDD` (as dig writes them), so that a name from the
    /// network cannot move a terminal's cursor.
    static func printable(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                let digits = String(scalar.value)
                out += "\\" + String(repeating: "0", count: 3 - digits.count) + digits
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// "2026-12-07 15:30:01.123 UTC", from days since 1970 to the civil date without Foundation
    /// (H. Hinnant's `civil_from_days`).
    static func utc(_ stamp: NTPTimestamp) -> String {
        let seconds = stamp.unixSeconds
        let milliseconds = Int((UInt64(stamp.fraction) * 1000) >> 32)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let ofDay = Int(seconds - days * 86_400)
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ n: some BinaryInteger) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let fraction =
            milliseconds < 10 ? "00\(milliseconds)" : milliseconds < 100 ? "0\(milliseconds)" : "\(milliseconds)"
        return "\(year)-\(two(month))-\(two(day)) \(two(ofDay / 3600)):\(two(ofDay / 60 % 60)):\(two(ofDay % 60))"
            + ".\(fraction) UTC"
    }
}
