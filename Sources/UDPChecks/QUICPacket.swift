/// What `socksdeck check --quic` sends and reads, sans-I/O: a QUIC client Initial (RFC 9000
/// §17.2.2) with a reserved version no server can know (§15: 0x?a?a?a?a), padded to the 1,200
/// bytes every client's first datagram must have (§14.1), and the server's Version Negotiation
/// packet (§17.2.1), which only the version-independent fields of RFC 8999 can draw. A VN back
/// proves that QUIC-sized datagrams pass the relay both ways, and names the versions offered.
package struct QUICProbe: Equatable, Sendable {
    /// RFC 9000 §14.1: a client's Initial datagram is at least this long, and a server drops (and
    /// answers no VN to) a shorter one.
    package static let minimumInitialDatagram = 1200

    package var version: UInt32
    package var destinationConnectionID: [UInt8]
    package var sourceConnectionID: [UInt8]

    /// A fresh probe: a random reserved version and random 8-byte connection ids (a client's
    /// first destination id must be at least 8 bytes, §7.2).
    package init() {
        version = 0x0A0A_0A0A | (UInt32.random(in: 0...UInt32.max) & 0xF0F0_F0F0)
        destinationConnectionID = (0..<8).map { _ in UInt8.random(in: 0...255) }
        sourceConnectionID = (0..<8).map { _ in UInt8.random(in: 0...255) }
    }

    package init(version: UInt32, destinationConnectionID: [UInt8], sourceConnectionID: [UInt8]) {
        self.version = version
        self.destinationConnectionID = destinationConnectionID
        self.sourceConnectionID = sourceConnectionID
    }

    /// The Initial packet, `size` bytes in all: long header, empty token, a 4-byte packet number
    /// and PADDING. Nothing is encrypted: no server knows the version, so none reads past the ids.
    package func encoded(size: Int = QUICProbe.minimumInitialDatagram) -> [UInt8] {
        var out: [UInt8] = [0xC3]  // long header, fixed bit, type Initial (0), packet number length 4
        out += QUICVersion.bytes(version)
        out += [UInt8(destinationConnectionID.count)] + destinationConnectionID
        out += [UInt8(sourceConnectionID.count)] + sourceConnectionID
        out += [0x00]  // token length 0
        // Length (a 2-byte varint, §16) covers the packet number and the payload.
        let length = max(size - out.count - 2, 4)
        out += [0x40 | UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length)]
        out += [0, 0, 0, 0]  // packet number 0
        out += [UInt8](repeating: 0, count: max(size - out.count, 0))  // PADDING frames
        return out
    }

    /// Why `response` is not this probe's Version Negotiation, or nil when it is: its ids must be
    /// ours swapped (§17.2.1), and it must not offer the version we asked for (§6.2).
    package func problem(answering response: QUICVersionNegotiation) -> String? {
        if response.destinationConnectionID != sourceConnectionID
            || response.sourceConnectionID
                != destinationConnectionID
        {
            return "a Version Negotiation packet for other connection ids (not an answer to this Initial)"
        }
        if response.versions.contains(version) {
            return "a Version Negotiation packet that offers the version asked for, "
                + "\(QUICVersion.name(version)) (RFC 9000 §6.2: a client discards it)"
        }
        if response.versions.isEmpty { return "a Version Negotiation packet that offers no version" }
        return nil
    }
}

/// A server's Version Negotiation packet (RFC 9000 §17.2.1, RFC 8999 §6).
package struct QUICVersionNegotiation: Equatable, Sendable {
    package var destinationConnectionID: [UInt8]
    package var sourceConnectionID: [UInt8]
    package var versions: [UInt32]

    package enum ParseError: Error, Equatable, CustomStringConvertible {
        case notLongHeader
        case notVersionNegotiation(version: UInt32)
        case truncated(at: String)
        case connectionIDTooLong(Int)
        case versionListNotWhole(bytes: Int)

        package var description: String {
            switch self {
            case .notLongHeader: "not a QUIC long header (the first bit is 0)"
            case .notVersionNegotiation(let v): "a QUIC long header of version \(QUICVersion.name(v)), not 0 (VN)"
            case .truncated(let field): "cut short in its \(field)"
            case .connectionIDTooLong(let n): "a connection id of \(n) bytes (at most 255, RFC 8999)"
            case .versionListNotWhole(let n): "a version list of \(n) bytes, not a multiple of 4"
            }
        }
    }

    package static func parse(_ bytes: [UInt8]) throws(ParseError) -> QUICVersionNegotiation {
        guard let first = bytes.first else { throw .truncated(at: "first byte") }
        guard first & 0x80 != 0 else { throw .notLongHeader }
        guard bytes.count >= 5 else { throw .truncated(at: "version") }
        let version = QUICVersion.read(bytes, at: 1)
        guard version == 0 else { throw .notVersionNegotiation(version: version) }
        var at = 5
        func connectionID(_ field: String) throws(ParseError) -> [UInt8] {
            guard at < bytes.count else { throw .truncated(at: "\(field) length") }
            let length = Int(bytes[at])
            at += 1
            guard at + length <= bytes.count else { throw .truncated(at: field) }
            defer { at += length }
            return Array(bytes[at..<at + length])
        }
        let destination = try connectionID("destination connection id")
        let source = try connectionID("source connection id")
        let rest = bytes.count - at
        guard rest % 4 == 0 else { throw .versionListNotWhole(bytes: rest) }
        let versions = stride(from: at, to: bytes.count, by: 4).map { QUICVersion.read(bytes, at: $0) }
        return QUICVersionNegotiation(
            destinationConnectionID: destination,
            sourceConnectionID: source,
            versions: versions
        )
    }
}

/// QUIC version numbers and their names.
package enum QUICVersion {
    package static func name(_ v: UInt32) -> String {
        switch v {
        case 0x0000_0001: return "QUIC v1 (RFC 9000)"
        case 0x6B33_43CF: return "QUIC v2 (RFC 9369)"
        case 0xFF00_001D...0xFF00_0022: return "draft-\(v & 0xFF)"
        case _ where v & 0x0F0F_0F0F == 0x0A0A_0A0A: return hex(v) + " (reserved, RFC 9000 §15)"
        default: return hex(v)
        }
    }

    package static func hex(_ v: UInt32) -> String {
        let digits = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }

    static func bytes(_ v: UInt32) -> [UInt8] {
        [
            UInt8(truncatingIfNeeded: v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8),
            UInt8(truncatingIfNeeded: v),
        ]
    }

    static func read(_ bytes: [UInt8], at i: Int) -> UInt32 {
        UInt32(bytes[i]) << 24 | UInt32(bytes[i + 1]) << 16 | UInt32(bytes[i + 2]) << 8 | UInt32(bytes[i + 3])
    }
}

/// What came back for a probe, as `check --quic` judges it.
package enum QUICAnswer: Equatable, Sendable {
    /// The server's Version Negotiation, ids checked.
    case versionNegotiation(QUICVersionNegotiation)
    /// Our own Initial, whole: an echo, not a QUIC server (and 1,200-byte datagrams pass).
    case echo
    /// Our own Initial cut to `length` bytes: an echo behind a relay that cuts datagrams.
    case cutEcho(length: Int)
    /// Anything else, with why it is not an answer.
    case notQUIC(String)
}

extension QUICProbe {
    /// Judges `reply` to the datagram `sent` (this probe's `encoded()`).
    package func interpret(_ reply: [UInt8], sent: [UInt8]) -> QUICAnswer {
        if reply == sent { return .echo }
        if reply.count >= 5 && reply.count < sent.count && reply[...] == sent[..<reply.count] {
            return .cutEcho(length: reply.count)
        }
        do {
            let vn = try QUICVersionNegotiation.parse(reply)
            if let problem = problem(answering: vn) { return .notQUIC(problem) }
            return .versionNegotiation(vn)
        } catch {
            return .notQUIC("\(error)")
        }
    }

    /// Whether `reply` could be an answer to this probe, for matching it among other datagrams:
    /// a VN for our ids, or our own bytes (whole or cut) coming back.
    package func mayAnswer(_ reply: [UInt8], sent: [UInt8]) -> Bool {
        switch interpret(reply, sent: sent) {
        case .versionNegotiation, .echo, .cutEcho: true
        case .notQUIC: reply.count >= 5 && reply[0] & 0x80 != 0 && QUICVersion.read(reply, at: 1) == 0
        }
    }
}

/// The kind of a QUIC long-header packet (RFC 9000 §17.2, RFC 9369 §3.2), in its RFC's words.
package enum QUICPacketType: String, Sendable, CustomStringConvertible {
    case initial = "Initial"
    case zeroRTT = "0-RTT"
    case handshake = "Handshake"
    case retry = "Retry"
    case versionNegotiation = "version negotiation"

    package var description: String { rawValue }
}

/// A long header's fields up to the packet number, for versions whose layout is known (v1, v2,
/// the late drafts, the reserved versions clients grease with) and Version Negotiation: what
/// tells a QUIC datagram from other bytes. The packet number and payload are encrypted.
struct QUICLongHeader: Equatable {
    var version: UInt32
    var type: QUICPacketType
    var destinationConnectionIDLength: Int
    var sourceConnectionIDLength: Int

    /// The header of the first packet in `bytes`, or nil unless every field is where its version
    /// puts it: the fixed bit set, ids of at most 20 bytes (RFC 9000 §17.2), a Length that fits
    /// and leaves room for header protection's sample (RFC 9001 §5.4.2), a Retry with a token
    /// and its 16-byte tag.
    static func parse(_ bytes: [UInt8]) -> QUICLongHeader? {
        guard bytes.count >= 7, bytes[0] & 0x80 != 0 else { return nil }
        let version = QUICVersion.read(bytes, at: 1)
        if version == 0 {
            // RFC 8999 leaves the other bits of a VN free, so the fixed bit is not asked for.
            guard let vn = try? QUICVersionNegotiation.parse(bytes), !vn.versions.isEmpty,
                vn.destinationConnectionID.count <= 20, vn.sourceConnectionID.count <= 20
            else { return nil }
            return QUICLongHeader(
                version: 0,
                type: .versionNegotiation,
                destinationConnectionIDLength: vn.destinationConnectionID.count,
                sourceConnectionIDLength: vn.sourceConnectionID.count
            )
        }
        guard bytes[0] & 0x40 != 0, let type = QUICVersion.packetType(bits: bytes[0] >> 4 & 3, version: version) else {
            return nil
        }
        let destination = Int(bytes[5])
        guard destination <= 20, 6 + destination < bytes.count else { return nil }
        let source = Int(bytes[6 + destination])
        var at = 7 + destination + source
        guard source <= 20, at <= bytes.count else { return nil }
        switch type {
        case .retry:
            guard bytes.count - at >= 17 else { return nil }
        case .initial, .zeroRTT, .handshake:
            if type == .initial {
                guard let token = varint(bytes, at: &at), token <= UInt64(bytes.count - at) else { return nil }
                at += Int(token)
            }
            guard let length = varint(bytes, at: &at), length >= 20, length <= UInt64(bytes.count - at) else {
                return nil
            }
        case .versionNegotiation: return nil
        }
        return QUICLongHeader(
            version: version,
            type: type,
            destinationConnectionIDLength: destination,
            sourceConnectionIDLength: source
        )
    }

    /// A variable-length integer (RFC 9000 §16): the top two bits of the first byte say 1, 2, 4
    /// or 8 bytes.
    static func varint(_ bytes: [UInt8], at: inout Int) -> UInt64? {
        guard at < bytes.count else { return nil }
        let size = 1 << Int(bytes[at] >> 6)
        guard bytes.count - at >= size else { return nil }
        var value = UInt64(bytes[at] & 0x3F)
        for i in 1..<size { value = value << 8 | UInt64(bytes[at + i]) }
        at += size
        return value
    }
}

extension QUICVersion {
    static let v2: UInt32 = 0x6B33_43CF

    /// The long-header type bits' meaning in `version`, or nil for a version whose layout is not
    /// known. v2 moved the types round by one (RFC 9369 §3.2) so that middleboxes do not ossify.
    static func packetType(bits: UInt8, version: UInt32) -> QUICPacketType? {
        let types: [QUICPacketType] = [.initial, .zeroRTT, .handshake, .retry]
        switch version {
        case 1, 0xFF00_001D...0xFF00_0022: return types[Int(bits & 3)]
        case _ where version & 0x0F0F_0F0F == 0x0A0A_0A0A: return types[Int(bits & 3)]
        case v2: return types[Int((bits &+ 3) & 3)]
        default: return nil
        }
    }

    /// A version in a few words for a screen row: "v1", "v2", "draft-29", "reserved 0x1a2a3a4a".
    static func shortName(_ v: UInt32) -> String {
        switch v {
        case 0: "version negotiation"
        case 1: "v1"
        case v2: "v2"
        case 0xFF00_001D...0xFF00_0022: "draft-\(v & 0xFF)"
        case _ where v & 0x0F0F_0F0F == 0x0A0A_0A0A: "reserved " + hex(v)
        default: hex(v)
        }
    }
}
