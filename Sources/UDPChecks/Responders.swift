/// The answering side, for SocksDeck's built-in demo only (the tests use real servers: dnsmasq,
/// coturn): a DNS answer to a query and a STUN Binding success response, sans-I/O. Just enough to
/// let a newcomer see `check`, `c` and `N` work offline.
package enum DNSAnswer {
    /// The response to `query` from a tiny zone: `records` maps a lower-case name to its IPv4
    /// address and TXT text; other names get NXDOMAIN. nil when `query` is not a query.
    package static func respond(to query: [UInt8], zone: [String: (ipv4: [UInt8], text: String)]) -> [UInt8]? {
        guard let parsed = try? DNSResponse.parse(query), !parsed.isResponse, let question = parsed.question else {
            return nil
        }
        // The question as sent: from byte 12 to the end of its QTYPE and QCLASS.
        guard let end = questionEnd(query) else { return nil }
        let name = DNSName.canonical(question.name)
        var answers: [[UInt8]] = []
        if let entry = zone[name] {
            func record(_ type: DNSRecordType, _ data: [UInt8]) -> [UInt8] {
                var r: [UInt8] = [0xC0, 0x0C]
                r.append16(type.rawValue)
                r.append16(1)
                r += [0, 0, 0, 60]
                r.append16(UInt16(data.count))
                return r + data
            }
            switch question.type {
            case .a: answers.append(record(.a, entry.ipv4))
            case .txt:
                let text = Array(entry.text.utf8.prefix(255))
                answers.append(record(.txt, [UInt8(text.count)] + text))
            default: break
            }
        }
        var out: [UInt8] = Array(query[0..<2])
        out.append16(zone[name] == nil ? 0x8583 : 0x8580)  // QR AA RD RA; NXDOMAIN for names outside
        out.append16(1)
        out.append16(UInt16(answers.count))
        out.append16(0)
        out.append16(0)
        out += query[12..<end]
        for a in answers { out += a }
        return out
    }

    static func questionEnd(_ query: [UInt8]) -> Int? {
        var i = 12
        while i < query.count, query[i] != 0 {
            guard query[i] & 0xC0 == 0 else { return nil }
            i += 1 + Int(query[i])
        }
        let end = i + 1 + 4
        return end <= query.count ? end : nil
    }
}

package enum STUNAnswer {
    /// The success response to a Binding request from `client`, as an RFC 5780 server sends it:
    /// XOR-MAPPED-ADDRESS, MAPPED-ADDRESS, RESPONSE-ORIGIN and OTHER-ADDRESS. Also returns what the
    /// request's CHANGE-REQUEST asked for (answer from the other IP, the other port). nil when the
    /// bytes are not a Binding request.
    package static func respond(
        to request: [UInt8],
        client: STUNAddress,
        origin: STUNAddress,
        other: STUNAddress
    ) -> (response: [UInt8], changeIP: Bool, changePort: Bool)? {
        guard request.count >= 20, request[0] == 0, request[1] == 1,
            request[4..<8].elementsEqual(STUNBindingRequest.magicCookieBytes)
        else {
            return nil
        }
        let tid = Array(request[8..<20])
        var changeIP = false
        var changePort = false
        var offset = 20
        while offset + 8 <= request.count {
            let type = UInt16(request[offset]) << 8 | UInt16(request[offset + 1])
            let length = Int(UInt16(request[offset + 2]) << 8 | UInt16(request[offset + 3]))
            if type == 0x0003, length == 4 {
                changeIP = request[offset + 7] & 4 != 0
                changePort = request[offset + 7] & 2 != 0
            }
            offset += 4 + (length + 3) / 4 * 4
        }
        func attribute(_ type: UInt16, _ a: STUNAddress, xor: Bool) -> [UInt8] {
            var port = a.port
            var address = a.address
            if xor {
                let mask = STUNBindingRequest.xorMask(transactionID: tid)
                port ^= mask.port
                for i in address.indices { address[i] ^= mask.address[i] }
            }
            var out: [UInt8] = []
            out.append16(type)
            out.append16(UInt16(4 + address.count))
            out += [0, a.isIPv6 ? 2 : 1]
            out.append16(port)
            return out + address
        }
        let body =
            attribute(0x0020, client, xor: true) + attribute(0x0001, client, xor: false)
            + attribute(0x802B, origin, xor: false) + attribute(0x802C, other, xor: false)
        var out: [UInt8] = [0x01, 0x01]
        out.append16(UInt16(body.count))
        out += STUNBindingRequest.magicCookieBytes + tid + body
        return (out, changeIP, changePort)
    }
}
