// libFuzzer target: the DNS, NTP and STUN decoders of `socksdeck check`, on bytes a hostile relay
// or service could send. What they promise: an error or a value, never a crash or a hang (name
// pointers must point backwards); a DNS answer's records never claim more bytes than the input;
// a STUN response that parses matches only its own transaction id.
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
    return 0
}
