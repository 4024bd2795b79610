/// A STUN Binding request and its response (RFC 8489, with RFC 5780's CHANGE-REQUEST,
/// RESPONSE-ORIGIN and OTHER-ADDRESS), sans-I/O. Through a relay, the mapped address is the
/// relay's address as the STUN server sees it: the address the world sees.
package struct STUNBindingRequest: Equatable, Sendable {
    package static let magicCookie: UInt32 = 0x2112_A442
    /// The cookie as it travels, after the type and the length of every message.
    static let magicCookieBytes: [UInt8] = withUnsafeBytes(of: magicCookie.bigEndian) { Array($0) }

    /// RFC 8489 §14.2: an XOR-(MAPPED-)ADDRESS masks its port with the cookie's high half and its
    /// address with the cookie followed by the transaction id.
    static func xorMask(transactionID: some Collection<UInt8>) -> (port: UInt16, address: [UInt8]) {
        (UInt16(magicCookie >> 16), magicCookieBytes + transactionID)
    }
    /// 96 random bits that match the response to the request.
    package var transactionID: [UInt8]
    /// RFC 5780 §7.2: ask the server to answer from its other address and/or port.
    package var changeIP = false
    package var changePort = false

    package init(transactionID: [UInt8], changeIP: Bool = false, changePort: Bool = false) {
        precondition(transactionID.count == 12, "a STUN transaction id is 12 bytes")
        self.transactionID = transactionID
        self.changeIP = changeIP
        self.changePort = changePort
    }

    /// A request with a fresh random transaction id.
    package static func random(changeIP: Bool = false, changePort: Bool = false) -> STUNBindingRequest {
        STUNBindingRequest(
            transactionID: (0..<12).map { _ in UInt8.random(in: 0...255) },
            changeIP: changeIP,
            changePort: changePort
        )
    }

    /// Whether `datagram` belongs to this request's transaction (its id at bytes 8 to 19): how a
    /// reply is picked from what a relay brings back before it is parsed and judged.
    package func isTransaction(of datagram: [UInt8]) -> Bool {
        datagram.count >= 20 && datagram[8..<20].elementsEqual(transactionID)
    }

    package func encoded() -> [UInt8] {
        let change = changeIP || changePort
        var out: [UInt8] = [0x00, 0x01]  // Binding request
        out.append16(change ? 8 : 0)
        out += Self.magicCookieBytes
        out += transactionID
        if change {
            out += [0x00, 0x03, 0x00, 0x04, 0, 0, 0, (changeIP ? 4 : 0) | (changePort ? 2 : 0)]
        }
        return out
    }
}

/// A transport address as STUN carries it.
package struct STUNAddress: Hashable, Sendable, CustomStringConvertible {
    /// 4 bytes (IPv4) or 16 (IPv6).
    package var address: [UInt8]
    package var port: UInt16

    package var isIPv6: Bool { address.count == 16 }

    package init(address: [UInt8], port: UInt16) {
        self.address = address
        self.port = port
    }

    package var description: String {
        isIPv6
            ? "[\(DNSRecord.ipv6Text(address))]:\(port)" : address.map(String.init).joined(separator: ".") + ":\(port)"
    }
}

package struct STUNResponse: Equatable, Sendable {
    package enum Kind: Equatable, Sendable { case success, error }
    package var kind: Kind
    package var transactionID: [UInt8]
    package var xorMappedAddress: STUNAddress?
    package var mappedAddress: STUNAddress?
    package var responseOrigin: STUNAddress?
    package var otherAddress: STUNAddress?
    /// RFC 3489's CHANGED-ADDRESS, which older servers send instead of OTHER-ADDRESS.
    package var changedAddress: STUNAddress?
    package var software: String?
    package var errorCode: (code: Int, reason: String)?

    package static func == (a: STUNResponse, b: STUNResponse) -> Bool {
        a.kind == b.kind && a.transactionID == b.transactionID && a.xorMappedAddress == b.xorMappedAddress
            && a.mappedAddress == b.mappedAddress && a.responseOrigin == b.responseOrigin
            && a.otherAddress == b.otherAddress && a.errorCode?.code == b.errorCode?.code
    }

    /// The address to believe: XOR-MAPPED-ADDRESS (which a NAT's ALG cannot rewrite), else
    /// MAPPED-ADDRESS (RFC 3489 servers).
    package var mapped: STUNAddress? { xorMappedAddress ?? mappedAddress }

    /// Where a server that can tell mapping and filtering behaviour apart (RFC 5780) answers
    /// from when asked to change address: OTHER-ADDRESS, else CHANGED-ADDRESS.
    package var alternate: STUNAddress? { otherAddress ?? changedAddress }

    /// Parses a Binding response: 20-byte header with the magic cookie, then attributes (each
    /// padded to 4 bytes), never read past their stated length.
    package static func parse(_ bytes: [UInt8]) throws(STUNError) -> STUNResponse {
        let header = try STUNHeader.parse(bytes)
        let kind: Kind
        switch header.type {
        case 0x0101: kind = .success
        case 0x0111: kind = .error
        case 0x0001: throw .notSTUN("message type 0x0001, a Binding request, not a response: an echo?")
        default: throw .notSTUN("message type 0x\(String(header.type, radix: 16)), not a Binding response")
        }
        var response = STUNResponse(kind: kind, transactionID: header.transactionID)
        try response.readAttributes(bytes, end: 20 + header.length)
        return response
    }

    /// Reads the attributes between the header and `end` into this response, each padded to 4
    /// bytes and none read past `end`.
    mutating func readAttributes(_ bytes: [UInt8], end: Int) throws(STUNError) {
        var offset = 20
        while offset + 4 <= end {
            let attribute = UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
            let size = Int(UInt16(bytes[offset + 2]) << 8 | UInt16(bytes[offset + 3]))
            let value = offset + 4
            guard value + size <= end else {
                throw .malformed("attribute 0x\(String(attribute, radix: 16)) runs past the message")
            }
            let body = Array(bytes[value..<value + size])
            switch attribute {
            case 0x0020: xorMappedAddress = try Self.address(body, xor: true, transactionID: transactionID)
            case 0x0001: mappedAddress = try Self.address(body, xor: false, transactionID: transactionID)
            case 0x802B: responseOrigin = try Self.address(body, xor: false, transactionID: transactionID)
            case 0x802C: otherAddress = try Self.address(body, xor: false, transactionID: transactionID)
            case 0x0005: changedAddress = try Self.address(body, xor: false, transactionID: transactionID)
            case 0x8022: software = String(decoding: body, as: UTF8.self)
            case 0x0009:
                guard size >= 4 else { throw .malformed("an ERROR-CODE of \(size) bytes") }
                errorCode = (Int(body[2] & 7) * 100 + Int(body[3]), String(decoding: body[4...], as: UTF8.self))
            default: break
            }
            offset = value + (size + 3) / 4 * 4
        }
    }

    init(kind: Kind, transactionID: [UInt8]) {
        self.kind = kind
        self.transactionID = transactionID
    }

    static func address(_ body: [UInt8], xor: Bool, transactionID: [UInt8]) throws(STUNError) -> STUNAddress {
        guard body.count >= 8 else { throw .malformed("an address attribute of \(body.count) bytes") }
        let family = body[1]
        let size = family == 1 ? 4 : family == 2 ? 16 : 0
        guard size > 0, body.count >= 4 + size else {
            throw .malformed("address family \(family) with \(body.count) bytes")
        }
        var port = UInt16(body[2]) << 8 | UInt16(body[3])
        var address = Array(body[4..<4 + size])
        if xor {
            let mask = STUNBindingRequest.xorMask(transactionID: transactionID)
            port ^= mask.port
            for i in address.indices { address[i] ^= mask.address[i] }
        }
        return STUNAddress(address: address, port: port)
    }

    /// Why this is not the answer to `request`, or nil when it is.
    package func problem(answering request: STUNBindingRequest) -> String? {
        if transactionID != request.transactionID { return "another transaction id: not the answer to this request" }
        if let e = errorCode { return "error \(e.code) \(e.reason)" }
        if mapped == nil { return "a success response without a mapped address" }
        return nil
    }
}

/// The 20-byte header every STUN message starts with (RFC 8489 §5), of any method and class: the
/// two top bits 0, the magic cookie, a length that is a multiple of 4 and fits in the bytes.
struct STUNHeader: Equatable {
    var type: UInt16
    /// The attributes' bytes, after the header.
    var length: Int
    var transactionID: [UInt8]

    /// The 12 method bits, from between the two class bits of the type (RFC 8489 §5, figure 3).
    var method: UInt16 { type & 0x000F | (type & 0x00E0) >> 1 | (type & 0x3E00) >> 2 }
    /// 0 request, 1 indication, 2 success response, 3 error response.
    var messageClass: UInt8 { UInt8(truncatingIfNeeded: (type >> 4) & 1 | (type >> 7) & 2) }

    static func parse(_ bytes: [UInt8]) throws(STUNError) -> STUNHeader {
        guard bytes.count >= 20 else { throw .tooShort(bytes.count) }
        guard bytes[0] & 0xC0 == 0 else { throw .notSTUN("the first two bits are not 0") }
        let type = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        let length = Int(UInt16(bytes[2]) << 8 | UInt16(bytes[3]))
        guard bytes[4..<8].elementsEqual(STUNBindingRequest.magicCookieBytes) else {
            throw .notSTUN("no magic cookie 2112a442")
        }
        guard length % 4 == 0, 20 + length <= bytes.count else {
            throw .malformed("a message length of \(length) for \(bytes.count) bytes")
        }
        return STUNHeader(type: type, length: length, transactionID: Array(bytes[8..<20]))
    }
}

package enum STUNError: Error, Equatable, Sendable, CustomStringConvertible {
    case tooShort(Int)
    case notSTUN(String)
    case malformed(String)

    package var description: String {
        switch self {
        case .tooShort(let n): "\(n) bytes: a STUN message has a 20-byte header"
        case .notSTUN(let why): "not a STUN response: \(why)"
        case .malformed(let what): what
        }
    }
}

/// When to send a request again (RFC 8489 §6.2.1): after RTO, then doubling, `requests` sends
/// in all, and a last wait of `finalWaitMultiplier` × RTO. Bounded by construction: the default
/// gives up 500 + 1000 + 2000 + 2×500 ms = 4.5 s after the first send (the RFC's 39.5 s is for a
/// stack, not for a person waiting at a terminal).
package struct STUNRetransmission: Equatable, Sendable {
    package var rto: Duration = .milliseconds(500)
    package var requests = 4
    package var finalWaitMultiplier = 2

    package init(rto: Duration = .milliseconds(500), requests: Int = 4, finalWaitMultiplier: Int = 2) {
        self.rto = rto
        self.requests = requests
        self.finalWaitMultiplier = finalWaitMultiplier
    }

    /// When each request goes, after the first send, then when to give up.
    package var schedule: (sends: [Duration], giveUp: Duration) {
        var sends = [Duration.zero]
        var wait = rto
        while sends.count < requests {
            sends.append(sends.last! + wait)
            wait *= 2
        }
        return (sends, sends.last! + rto * finalWaitMultiplier)
    }
}
