/// A SOCKS5 message or UDP datagram header, explained field by field: what `socksdeck decode`
/// prints for bytes pasted from a capture ("05 07 00 01 00 00 00 00 00 00"). Sans-I/O: bytes in,
/// lines out. The messages are parsed by their own parsers, so the explanation agrees with what
/// the client does with the same bytes.
public enum WireExplanation {
    /// Which message the bytes are.
    public enum Kind: String, CaseIterable, Sendable {
        case greeting, method, auth, request, reply, udp

        var title: String {
            switch self {
            case .greeting: "client greeting (RFC 1928 §3)"
            case .method: "method selection (RFC 1928 §3)"
            case .auth: "username/password status (RFC 1929)"
            case .request: "request (RFC 1928 §4)"
            case .reply: "reply (RFC 1928 §6)"
            case .udp: "UDP datagram header (RFC 1928 §7)"
            }
        }
    }

    /// One field: its name, its bytes in hex, what they mean.
    public struct Field: Equatable, Sendable {
        public var name: String
        public var hex: String
        public var meaning: String
    }

    public struct Explanation: Equatable, Sendable {
        public var kind: Kind
        /// "reply (RFC 1928 §6)", and why this reading when the bytes fit several.
        public var title: String
        public var fields: [Field]
        /// What is wrong with the bytes as this message, if anything.
        public var problem: String?
    }

    /// The kind the bytes most likely are, from their first bytes and length: a UDP header starts
    /// 00 00; two bytes are a server's method selection (05 xx) or RFC 1929 status (01 xx); 05 n
    /// followed by n methods is a greeting; else 05 xx 00 is read as a reply (the message people
    /// most often paste), a request when asked (`kind`).
    public static func guessKind(_ bytes: [UInt8]) -> Kind {
        if bytes.count >= 2, bytes[0] == 0, bytes[1] == 0 { return .udp }
        if bytes.count == 2 { return bytes[0] == usernamePasswordVersion ? .auth : .method }
        let fitsGreeting =
            bytes.count >= 3 && bytes[0] == socksVersion && bytes[1] > 0 && Int(bytes[1]) + 2 == bytes.count
        // "05 08 00 01 00 00 00 00 00 00" fits both: a whole reply wins, as the likelier paste.
        let wholeReply = bytes.withUnsafeBytes { raw in
            if case .complete(_, let consumed)? = try? SOCKSReply.parse(raw) { return consumed == bytes.count }
            return false
        }
        return fitsGreeting && !wholeReply ? .greeting : .reply
    }

    public static func explain(_ bytes: [UInt8], as kind: Kind? = nil) -> Explanation {
        let chosen = kind ?? guessKind(bytes)
        var walker = Walker(bytes: bytes)
        var title = chosen.title
        if kind == nil && chosen == .reply && bytes.count >= 2 && (1...3).contains(bytes[1]) {
            title += "; read as a reply, --as request reads it as a request"
        }
        let problem: String?
        switch chosen {
        case .greeting: problem = greeting(&walker)
        case .method: problem = method(&walker)
        case .auth: problem = auth(&walker)
        case .request: problem = requestOrReply(&walker, isReply: false)
        case .reply: problem = requestOrReply(&walker, isReply: true)
        case .udp: problem = udp(&walker)
        }
        return Explanation(kind: chosen, title: title, fields: walker.fields, problem: problem ?? walker.trailing())
    }

    // MARK: - The messages

    private static func version(_ w: inout Walker, expected: UInt8, label: String) -> String? {
        guard let v = w.take("VER", 1, { "\(label) \($0[0])" }) else { return w.cut("VER") }
        if v[0] == expected { return nil }
        let socks4 = v[0] == 0 || v[0] == 4 ? " (a SOCKS4 message starts with 00 or 04: is this a SOCKS4 server?)" : ""
        return
            "VER is \(v[0]), not \(expected): this is not a \(expected == socksVersion ? "SOCKS5" : "RFC 1929") "
            + "message\(socks4)"
    }

    private static func greeting(_ w: inout Walker) -> String? {
        if let p = version(&w, expected: socksVersion, label: "SOCKS version") { return p }
        guard let n = w.take("NMETHODS", 1, { "\($0[0]) method(s) offered" }) else { return w.cut("NMETHODS") }
        for i in 0..<Int(n[0]) {
            guard w.take("METHOD", 1, { "\(AuthenticationMethod(rawValue: $0[0]))" }) != nil else {
                return w.cut("METHOD \(i + 1) of \(n[0])")
            }
        }
        return n[0] == 0 ? "NMETHODS 0: a greeting must offer at least one method" : nil
    }

    private static func method(_ w: inout Walker) -> String? {
        if let p = version(&w, expected: socksVersion, label: "SOCKS version") { return p }
        guard
            let m = w.take(
                "METHOD",
                1,
                { bytes in
                    let method = AuthenticationMethod(rawValue: bytes[0])
                    return method == .noAcceptableMethods
                        ? "\(method): the server accepts none of the methods offered (S5_ENOMETHOD)"
                        : "the server chose \(method)"
                }
            )
        else { return w.cut("METHOD") }
        _ = m
        return nil
    }

    private static func auth(_ w: inout Walker) -> String? {
        if let p = version(&w, expected: usernamePasswordVersion, label: "RFC 1929 version") { return p }
        guard w.take("STATUS", 1, { $0[0] == 0 ? "00: success" : "\(hexByte($0[0])): failure (S5_EAUTH)" }) != nil
        else {
            return w.cut("STATUS")
        }
        return nil
    }

    private static func requestOrReply(_ w: inout Walker, isReply: Bool) -> String? {
        if let p = version(&w, expected: socksVersion, label: "SOCKS version") { return p }
        if isReply {
            guard
                w.take(
                    "REP",
                    1,
                    { bytes in
                        let d = ErrorCatalogue.decode(reply: bytes[0], command: nil)
                        return bytes[0] == 0 ? "00: succeeded" : "\(d.name): \(d.summary). \(d.sentence)"
                    }
                ) != nil
            else { return w.cut("REP") }
        } else {
            guard let cmd = w.take("CMD", 1, { Command(rawValue: $0[0]).map { "\($0)" } ?? "unknown command" }) else {
                return w.cut("CMD")
            }
            if Command(rawValue: cmd[0]) == nil {
                return "CMD \(hexByte(cmd[0])) is not CONNECT (01), BIND (02) or UDP ASSOCIATE (03)"
            }
        }
        guard
            let rsv = w.take(
                "RSV",
                1,
                { $0[0] == 0 ? "reserved" : "reserved (not 00: servers put junk here; ignored)" }
            )
        else {
            return w.cut("RSV")
        }
        _ = rsv
        return address(&w, prefix: isReply ? "BND" : "DST", isReply: isReply)
    }

    private static func udp(_ w: inout Walker) -> String? {
        guard w.take("RSV", 2, { _ in "reserved" }) != nil else { return w.cut("RSV") }
        guard
            let frag = w.take(
                "FRAG",
                1,
                { bytes in
                    bytes[0] == 0
                        ? "00: a whole datagram" : "fragment \(bytes[0]): SocksDeck, like most clients, drops fragments"
                }
            )
        else { return w.cut("FRAG") }
        _ = frag
        if let p = address(&w, prefix: "DST", isReply: false) { return p }
        let rest = w.remainingCount
        let data = w.takeRest()
        let text = String(data.prefix(48).map { (0x20..<0x7F).contains($0) ? Character(UnicodeScalar($0)) : "." })
        w.fields.append(
            Field(
                name: "DATA",
                hex: Self.hex(Array(data.prefix(16))) + (rest > 16 ? " …" : ""),
                meaning: "\(rest) byte(s) of payload: \"\(text)\""
            )
        )
        return nil
    }

    private static func address(_ w: inout Walker, prefix: String, isReply: Bool) -> String? {
        guard
            let atyp = w.take(
                "ATYP",
                1,
                { bytes in
                    switch AddressType(rawValue: bytes[0]) {
                    case .ipv4: "01: IPv4"
                    case .ipv6: "04: IPv6"
                    case .domainName: "03: domain name"
                    case nil: "\(hexByte(bytes[0])): not an address type RFC 1928 assigns (01, 03, 04)"
                    }
                }
            )
        else { return w.cut("ATYP") }
        let kind = AddressType(rawValue: atyp[0])
        let addressLabel = prefix + ".ADDR"
        var unspecified = false
        switch kind {
        case .ipv4:
            guard
                let a = w.take(
                    addressLabel,
                    4,
                    { bytes in
                        let address = IPv4Address(bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
                        return "\(address)"
                    }
                )
            else { return w.cut(addressLabel) }
            unspecified = a.allSatisfy { $0 == 0 }
        case .ipv6:
            guard
                let a = w.take(
                    addressLabel,
                    16,
                    { bytes in
                        let high = bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                        let low = bytes[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                        return "\(IPv6Address(high: high, low: low))"
                    }
                )
            else { return w.cut(addressLabel) }
            unspecified = a.allSatisfy { $0 == 0 }
        case .domainName:
            guard let n = w.take("LEN", 1, { "\($0[0])-byte name" }) else { return w.cut("LEN") }
            if n[0] == 0 { return "a domain name of length 0 (RFC 1928 needs at least one byte)" }
            guard let name = w.take(addressLabel, Int(n[0]), { String(decoding: $0, as: UTF8.self) }) else {
                return w.cut(addressLabel)
            }
            if name.contains(0) { return "the domain name holds a NUL byte" }
        case nil:
            return "ATYP \(hexByte(atyp[0])) is unknown: the rest cannot be read"
        }
        if unspecified, isReply {
            w.fields[w.fields.count - 1].meaning +=
                " (unspecified: the client uses the server's address, keeping BND's family)"
        }
        guard w.take(prefix + ".PORT", 2, { bytes in "\(UInt16(bytes[0]) << 8 | UInt16(bytes[1]))" }) != nil else {
            return w.cut(prefix + ".PORT")
        }
        return nil
    }

    static func hex(_ bytes: [UInt8]) -> String { hexDump(bytes) }

    /// Walks the bytes field by field, recording each.
    private struct Walker {
        let bytes: [UInt8]
        var offset = 0
        var fields: [Field] = []

        var remainingCount: Int { bytes.count - offset }

        /// The next `count` bytes as a field explained by `meaning`, or nil when the bytes end first.
        mutating func take(_ name: String, _ count: Int, _ meaning: ([UInt8]) -> String) -> [UInt8]? {
            guard remainingCount >= count else { return nil }
            let slice = Array(bytes[offset..<offset + count])
            offset += count
            fields.append(Field(name: name, hex: WireExplanation.hex(slice), meaning: meaning(slice)))
            return slice
        }

        mutating func takeRest() -> [UInt8] {
            defer { offset = bytes.count }
            return Array(bytes[offset...])
        }

        func cut(_ field: String) -> String {
            "the bytes end before \(field) (\(bytes.count) byte(s)): the message is cut"
        }

        func trailing() -> String? {
            remainingCount == 0
                ? nil : "\(remainingCount) byte(s) after the message: \(WireExplanation.hex(Array(bytes[offset...])))"
        }
    }
}
