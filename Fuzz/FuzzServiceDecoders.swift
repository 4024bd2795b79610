// libFuzzer target: the DNS, NTP, STUN and QUIC decoders of `socksdeck check`, on bytes a hostile
// relay or service could send. What they promise: an error or a value, never a crash or a hang
// (name pointers must point backwards); a DNS answer's records never claim more bytes than the
// input; a STUN response that parses matches only its own transaction id; a QUIC Version
// Negotiation's versions fit in the input, and it answers only a probe with its ids swapped.
// And `socksdeck forward`'s recogniser over all of them, with each port hint and QUIC flow or not:
// a reading or nil, its words and its pairing key always computable.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let dns = try? DNSResponse.parse(bytes) {
        precondition(dns.answers.count <= size / 11, "more answers than the bytes can hold")
        _ = dns.problem(answering: DNSQuery(id: dns.id, name: dns.question?.name ?? ".", type: .a))
        for record in dns.answers { _ = record.description }
    }
    if let ntp = try? NTPResponse.parse(bytes) {
        precondition(size >= 48, "an NTP packet from fewer than 48 bytes")
        _ = ntp.kissCode
        _ = ntp.referenceText
        _ = ntp.offsetAndDelay(sent: ntp.originate, arrived: ntp.transmit)
    }
    if let stun = try? STUNResponse.parse(bytes) {
        precondition(size >= 20 && stun.transactionID == Array(bytes[8..<20]), "the transaction id is not the header's")
        var other = stun.transactionID
        other[0] ^= 0xFF
        precondition(stun.problem(answering: STUNBindingRequest(transactionID: other)) != nil, "matched a foreign id")
        _ = stun.mapped?.description
    }
    if let vn = try? QUICVersionNegotiation.parse(bytes) {
        precondition(
            7 + vn.destinationConnectionID.count + vn.sourceConnectionID.count + 4 * vn.versions.count == size,
            "a VN whose fields do not add up to its bytes"
        )
        let probe = QUICProbe(
            version: 0x1A2A_3A4A,
            destinationConnectionID: vn.sourceConnectionID + [0],
            sourceConnectionID: vn.destinationConnectionID
        )
        precondition(probe.problem(answering: vn) != nil, "matched a probe with other ids")
        _ = vn.versions.map(QUICVersion.name)
    }
    let probe = QUICProbe()
    _ = probe.interpret(bytes, sent: probe.encoded())
    for port: UInt16? in [nil, 53, 123, 3478, 443, 9] {
        for quicSeen in [false, true] {
            guard let datagram = ApplicationDatagram.recognise(bytes, port: port, quicSeen: quicSeen) else { continue }
            precondition(!datagram.summary.isEmpty, "a reading without words")
            precondition(
                !datagram.summary.unicodeScalars.contains { $0.value < 0x20 },
                "a control character from the input reached a screen row"
            )
            _ = datagram.exchangeKey.map { [$0: datagram.isRequest] }
        }
    }
    return 0
}
