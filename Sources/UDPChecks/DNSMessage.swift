/// A DNS query and the response to it (RFC 1035), sans-I/O: a query encodes to bytes, bytes
/// parse to a response or a typed error, and `DNSResponse.problem(answering:)` says whether a
/// response is really the answer to a query (id, QR, the question echoed). What `socksdeck check
/// --dns` sends through a relay and judges what comes back by: a relay that "accepts UDP
/// ASSOCIATE but silently discards the payloads" shows here as no answer, one that mangles them
/// as a parse error.
package struct DNSQuery: Equatable, Sendable {
    package var id: UInt16
    /// The name asked for, dots between labels ("socksdeck.test"); a trailing dot is allowed.
    package var name: String
    package var type: DNSRecordType
    package var recursionDesired = true
    /// The UDP payload size advertised in an EDNS(0) OPT record; nil sends none (a 512-byte answer).
    package var ednsPayloadSize: UInt16? = 1232

    package init(id: UInt16, name: String, type: DNSRecordType, ednsPayloadSize: UInt16? = 1232) {
        self.id = id
        self.name = name
        self.type = type
        self.ednsPayloadSize = ednsPayloadSize
    }

    /// The query's bytes, or why the name cannot be sent (an empty label, a label over 63 bytes,
    /// a name over 255).
    package func encoded() throws(DNSError) -> [UInt8] {
        var out: [UInt8] = []
        out.append16(id)
        out.append16(recursionDesired ? 0x0100 : 0)
        out.append16(1)  // QDCOUNT
        out.append16(0)
        out.append16(0)
        out.append16(ednsPayloadSize == nil ? 0 : 1)  // ARCOUNT: the OPT record
        out += try DNSName.encode(name)
        out.append16(type.rawValue)
        out.append16(1)  // IN
        if let size = ednsPayloadSize {
            out.append(0)  // root name
            out.append16(41)  // OPT
            out.append16(size)
            out += [0, 0, 0, 0]  // extended RCODE, version, flags
            out.append16(0)  // no options
        }
        return out
    }
}

/// A record type, by number, with the names people type.
package struct DNSRecordType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    package var rawValue: UInt16
    package init(rawValue: UInt16) { self.rawValue = rawValue }

    package static let a = DNSRecordType(rawValue: 1)
    package static let ns = DNSRecordType(rawValue: 2)
    package static let cname = DNSRecordType(rawValue: 5)
    package static let soa = DNSRecordType(rawValue: 6)
    package static let ptr = DNSRecordType(rawValue: 12)
    package static let mx = DNSRecordType(rawValue: 15)
    package static let txt = DNSRecordType(rawValue: 16)
    package static let aaaa = DNSRecordType(rawValue: 28)
    package static let srv = DNSRecordType(rawValue: 33)
    package static let opt = DNSRecordType(rawValue: 41)
    package static let any = DNSRecordType(rawValue: 255)

    static let names: [(String, DNSRecordType)] = [
        ("A", .a), ("NS", .ns), ("CNAME", .cname), ("SOA", .soa), ("PTR", .ptr), ("MX", .mx), ("TXT", .txt),
        ("AAAA", .aaaa), ("SRV", .srv), ("OPT", .opt), ("ANY", .any),
    ]

    /// "A", "aaaa", "TXT", or "TYPE65" / "65" for any other.
    package init?(name: String) {
        let upper = name.uppercased()
        if let known = Self.names.first(where: { $0.0 == upper }) {
            self = known.1
        } else if let n = UInt16(upper.hasPrefix("TYPE") ? String(upper.dropFirst(4)) : upper) {
            self.init(rawValue: n)
        } else {
            return nil
        }
    }

    package var description: String { Self.names.first { $0.1 == self }?.0 ?? "TYPE\(rawValue)" }
}

/// The response code (RCODE), with RFC 1035's names.
package struct DNSResponseCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    package var rawValue: UInt8
    package init(rawValue: UInt8) { self.rawValue = rawValue }

    package static let noError = DNSResponseCode(rawValue: 0)
    package static let nxDomain = DNSResponseCode(rawValue: 3)

    /// RFC 1035's six and RFC 2136's five (dynamic update), by number.
    static let names = [
        "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH",
        "NOTZONE",
    ]

    package var description: String {
        Self.names.indices.contains(Int(rawValue)) ? Self.names[Int(rawValue)] : "RCODE \(rawValue)"
    }

    /// NOERROR and NXDOMAIN are answers (the name exists or it does not); the others say the
    /// resolver did not answer the question.
    package var isAnswer: Bool { self == .noError || self == .nxDomain }
}

/// One resource record of an answer.
package struct DNSRecord: Equatable, Sendable, CustomStringConvertible {
    package enum Data: Equatable, Sendable {
        case ipv4([UInt8])
        case ipv6([UInt8])
        case name(String)
        case text([String])
        case mailExchange(preference: UInt16, name: String)
        case other([UInt8])
    }

    package var name: String
    package var type: DNSRecordType
    package var ttl: UInt32
    package var data: Data

    package var description: String {
        let value: String
        switch data {
        case .ipv4(let b): value = b.map(String.init).joined(separator: ".")
        case .ipv6(let b): value = DNSRecord.ipv6Text(b)
        case .name(let n): value = n
        case .text(let t): value = t.map { "\"\($0)\"" }.joined(separator: " ")
        case .mailExchange(let p, let n): value = "\(p) \(n)"
        case .other(let b): value = "\(b.count) bytes"
        }
        return "\(name) \(ttl) \(type) \(value)"
    }

    static func ipv6Text(_ b: [UInt8]) -> String {
        let groups = stride(from: 0, to: 16, by: 2).map { UInt16(b[$0]) << 8 | UInt16(b[$0 + 1]) }
        // The longest run of zero groups becomes "::" (RFC 5952).
        var best = (start: -1, length: 0)
        var i = 0
        while i < 8 {
            var j = i
            while j < 8, groups[j] == 0 { j += 1 }
            if j - i > best.length, j - i > 1 { best = (i, j - i) }
            i = j == i ? i + 1 : j
        }
        func hex(_ g: ArraySlice<UInt16>) -> String { g.map { String($0, radix: 16) }.joined(separator: ":") }
        guard best.start >= 0 else { return hex(groups[...]) }
        return hex(groups[..<best.start]) + "::" + hex(groups[(best.start + best.length)...])
    }
}

/// A DNS response as received.
package struct DNSResponse: Equatable, Sendable {
    package var id: UInt16
    package var isResponse: Bool
    package var opcode: UInt8
    package var authoritative: Bool
    /// TC: the answer did not fit; a resolver would ask again over TCP.
    package var truncated: Bool
    package var recursionAvailable: Bool
    package var responseCode: DNSResponseCode
    package var question: (name: String, type: DNSRecordType)?
    package var answers: [DNSRecord]
    package var authorityCount: Int
    package var additionalCount: Int

    package static func == (a: DNSResponse, b: DNSResponse) -> Bool {
        a.id == b.id && a.isResponse == b.isResponse && a.responseCode == b.responseCode && a.truncated == b.truncated
            && a.question?.name == b.question?.name && a.question?.type == b.question?.type && a.answers == b.answers
    }

    /// Parses a response. Bounded by the bytes: every name pointer must point backwards, at most
    /// 255 bytes a name, so hostile input ends in an error, never a loop.
    package static func parse(_ bytes: [UInt8]) throws(DNSError) -> DNSResponse {
        var r = DNSReader(bytes: bytes)
        return try parse(&r)
    }

    /// Parses a message that must be exactly its sections: the authority and additional records
    /// (skipped) must end where the bytes end. What tells a DNS datagram from other bytes that
    /// happen to start like one (ApplicationDatagram).
    static func parseWhole(_ bytes: [UInt8]) throws(DNSError) -> DNSResponse {
        var r = DNSReader(bytes: bytes)
        let message = try parse(&r)
        for _ in 0..<(message.authorityCount + message.additionalCount) { try r.skipRecord() }
        guard r.offset == bytes.count else { throw .malformed("\(bytes.count - r.offset) bytes after the last record") }
        return message
    }

    private static func parse(_ r: inout DNSReader) throws(DNSError) -> DNSResponse {
        let bytes = r.bytes
        let id = try r.u16()
        let flags = try r.u16()
        let questions = Int(try r.u16())
        let answerCount = Int(try r.u16())
        let authority = Int(try r.u16())
        let additional = Int(try r.u16())
        var question: (String, DNSRecordType)?
        for i in 0..<questions {
            let name = try r.name()
            let type = DNSRecordType(rawValue: try r.u16())
            _ = try r.u16()
            if i == 0 { question = (name, type) }
        }
        var answers: [DNSRecord] = []
        for _ in 0..<answerCount {
            let name = try r.name()
            let type = DNSRecordType(rawValue: try r.u16())
            _ = try r.u16()  // class
            let ttl = UInt32(try r.u16()) << 16 | UInt32(try r.u16())
            let length = Int(try r.u16())
            let end = r.offset + length
            guard end <= bytes.count else { throw .truncated(at: r.offset) }
            let data: DNSRecord.Data
            switch type {
            case .a where length == 4: data = .ipv4(Array(bytes[r.offset..<end]))
            case .aaaa where length == 16: data = .ipv6(Array(bytes[r.offset..<end]))
            case .cname, .ns, .ptr: data = .name(try r.name())
            case .mx: data = .mailExchange(preference: try r.u16(), name: try r.name())
            case .txt:
                var strings: [String] = []
                while r.offset < end {
                    let n = Int(try r.u8())
                    guard r.offset + n <= end else { throw .truncated(at: r.offset) }
                    strings.append(String(decoding: bytes[r.offset..<r.offset + n], as: UTF8.self))
                    r.offset += n
                }
                data = .text(strings)
            default: data = .other(Array(bytes[r.offset..<end]))
            }
            guard r.offset <= end else { throw .malformed("record data longer than its RDLENGTH \(length)") }
            r.offset = end
            answers.append(DNSRecord(name: name, type: type, ttl: ttl, data: data))
        }
        return DNSResponse(
            id: id,
            isResponse: flags & 0x8000 != 0,
            opcode: UInt8(flags >> 11 & 0xF),
            authoritative: flags & 0x0400 != 0,
            truncated: flags & 0x0200 != 0,
            recursionAvailable: flags & 0x0080 != 0,
            responseCode: DNSResponseCode(rawValue: UInt8(flags & 0xF)),
            question: question,
            answers: answers,
            authorityCount: authority,
            additionalCount: additional
        )
    }

    /// Why this is not the answer to `query` (another id, not a response, another question), or
    /// nil when it is.
    package func problem(answering query: DNSQuery) -> String? {
        if id != query.id { return "transaction id \(id), not the query's \(query.id)" }
        if !isResponse { return "QR is 0: it is a query, not a response (an echo?)" }
        guard let question else { return "no question in the response" }
        if DNSName.canonical(question.name) != DNSName.canonical(query.name) || question.type != query.type {
            return "the question is \(question.name) \(question.type), not \(query.name) \(query.type)"
        }
        return nil
    }
}

package enum DNSError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated(at: Int)
    case malformed(String)
    case badName(String)

    package var description: String {
        switch self {
        case .truncated(let at): "the message ends at byte \(at), in the middle of a field"
        case .malformed(let what): what
        case .badName(let why): why
        }
    }
}

enum DNSName {
    static func canonical(_ name: String) -> String {
        var n = name.lowercased()
        while n.hasSuffix(".") { n.removeLast() }
        return n
    }

    static func encode(_ name: String) throws(DNSError) -> [UInt8] {
        let plain = canonical(name) == "" ? "" : (name.hasSuffix(".") ? String(name.dropLast()) : name)
        var out: [UInt8] = []
        if !plain.isEmpty {
            for label in plain.split(separator: ".", omittingEmptySubsequences: false) {
                let bytes = Array(label.utf8)
                guard !bytes.isEmpty else { throw .badName("'\(name)' has an empty label") }
                guard bytes.count <= 63 else {
                    throw .badName("a label of '\(name)' is \(bytes.count) bytes (63 at most)")
                }
                out.append(UInt8(bytes.count))
                out += bytes
            }
        }
        out.append(0)
        guard out.count <= 255 else { throw .badName("'\(name)' is \(out.count) bytes encoded (255 at most)") }
        return out
    }
}

/// Reads big-endian fields and compressed names, never past the end.
struct DNSReader {
    let bytes: [UInt8]
    var offset = 0

    mutating func u8() throws(DNSError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated(at: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() throws(DNSError) -> UInt16 {
        UInt16(try u8()) << 8 | UInt16(try u8())
    }

    /// A name at the current offset, following compression pointers (RFC 1035 §4.1.4), each of
    /// which must point before the label that holds it: so the walk always ends.
    mutating func name() throws(DNSError) -> String {
        var labels: [String] = []
        var position = offset
        var jumped = false
        var length = 0
        var limit = position
        while true {
            guard position < bytes.count else { throw .truncated(at: position) }
            let n = bytes[position]
            if n & 0xC0 == 0xC0 {
                guard position + 1 < bytes.count else { throw .truncated(at: position) }
                let target = Int(n & 0x3F) << 8 | Int(bytes[position + 1])
                guard target < limit else {
                    throw .malformed("a name pointer at byte \(position) does not point backwards")
                }
                if !jumped { offset = position + 2 }
                jumped = true
                limit = target
                position = target
                continue
            }
            guard n & 0xC0 == 0 else { throw .malformed("label type \(n >> 6) at byte \(position) is not defined") }
            if n == 0 {
                if !jumped { offset = position + 1 }
                break
            }
            let end = position + 1 + Int(n)
            guard end <= bytes.count else { throw .truncated(at: position) }
            length += Int(n) + 1
            guard length <= 255 else { throw .malformed("a name longer than 255 bytes") }
            labels.append(String(decoding: bytes[(position + 1)..<end], as: UTF8.self))
            position = end
        }
        return labels.isEmpty ? "." : labels.joined(separator: ".")
    }

    /// Steps over one resource record (name, type, class, TTL, RDLENGTH and its data).
    mutating func skipRecord() throws(DNSError) {
        _ = try name()
        offset += 8
        let length = Int(try u16())
        guard offset + length <= bytes.count else { throw .truncated(at: offset) }
        offset += length
    }
}

extension Array where Element == UInt8 {
    mutating func append16(_ v: UInt16) {
        append(UInt8(v >> 8))
        append(UInt8(v & 0xFF))
    }
}
