#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A datagram received through the relay.
public struct ReceivedDatagram: Sendable, Hashable {
    /// The remote sender, from the UDP header.
    public var sender: SOCKSAddress
    /// Payload bytes written to the buffer.
    public var length: Int
    /// The payload's length on the wire; more than `length` when the buffer was too small.
    public var originalLength: Int
}

/// Sending and receiving encapsulated datagrams on a SOCK_DGRAM socket: one system call per
/// datagram and no heap allocation (the header lives on the stack and goes out through an iovec
/// next to the caller's payload).
public enum DatagramIO {
    /// What an errno means on the association's data socket, where it is not about the SOCKS
    /// server's TCP port: ECONNREFUSED there is an ICMP port unreachable.
    static func datagramHint(_ e: Int32) -> String? {
        switch e {
        case ECONNREFUSED:
            "On the data socket this is an ICMP port unreachable: nothing listens on the relay's port any more "
                + "(has the association ended?), or the relay passed one on from the target."
        case EMSGSIZE: "Send a smaller payload: the datagram with its SOCKS header must fit in one UDP datagram."
        default: nil
        }
    }

    /// EMSGSIZE unless `header` and `payloadLength` bytes fit in one UDP datagram to `relay`: the
    /// one size rule of every send, single or batched.
    static func checkFits(_ header: UDPDatagramHeader, payloadLength: Int, relay: IPEndpoint) throws(SOCKS5Error) {
        guard payloadLength <= UDPLimits.maximumPayload(relay.family) - header.encodedLength else {
            throw .system(EMSGSIZE, "\(payloadLength)-byte payload plus \(header.encodedLength)-byte header")
        }
    }

    /// Sends `payload` to `target` through the relay at `relay`. EMSGSIZE when header plus payload
    /// exceed the UDP maximum for the relay's family.
    public static func send(
        socket fd: Int32,
        payload: UnsafeRawBufferPointer,
        to target: SOCKSAddress,
        relay: IPEndpoint,
        flags: Int32 = 0
    ) throws(SOCKS5Error) {
        let header = UDPDatagramHeader(address: target)
        try checkFits(header, payloadLength: payload.count, relay: relay)
        let rc = withUnsafeTemporaryAllocation(byteCount: UDPDatagramHeader.maximumLength, alignment: 8) {
            headerBytes in
            let headerLength = header.write(into: headerBytes)
            var name = sockaddr_storage()
            let nameLength = withUnsafeMutableBytes(of: &name) { relay.write(to: $0.baseAddress!) }
            var vectors = (
                iovec(iov_base: headerBytes.baseAddress, iov_len: headerLength),
                iovec(iov_base: UnsafeMutableRawPointer(mutating: payload.baseAddress), iov_len: payload.count)
            )
            return withUnsafeMutablePointer(to: &name) { namePointer in
                withUnsafeMutableBytes(of: &vectors) { v in
                    var message = msghdr()
                    message.msg_name = UnsafeMutableRawPointer(namePointer)
                    message.msg_namelen = socklen_t(nameLength)
                    message.msg_iov = v.baseAddress!.assumingMemoryBound(to: iovec.self)
                    message.msg_iovlen = payload.count > 0 ? 2 : 1
                    return sendmsg(fd, &message, flags | Int32(MSG_NOSIGNAL))
                }
            }
        }
        if rc < 0 {
            let e = errno
            throw .system(e, "sendmsg to the relay \(relay)", hint: Self.datagramHint(e))
        }
    }

    /// What a receive makes of one datagram read from the data socket: the filter's verdict, then
    /// the caller's `accept` on its sender (refused: `unusableSender`).
    static func verdict(
        source: IPEndpoint?,
        relay: IPEndpoint,
        length: Int,
        headerBytes: UnsafeRawBufferPointer,
        accept: (SOCKSAddress) -> Bool
    ) -> DatagramFilter.Verdict {
        let verdict = DatagramFilter.atClient(source: source, relay: relay, length: length, headerBytes: headerBytes)
        guard case .accepted(let accepted) = verdict, !accept(accepted.header.address) else { return verdict }
        return .dropped(.unusableSender)
    }

    /// Receives the next valid datagram from the relay into `buffer` and strips its header.
    /// Datagrams not from `relay`, with FRAG ≠ 0 or with a malformed header are skipped and
    /// reported to `dropped`; `accept` may refuse a sender (the C API cannot return a domain).
    /// Errors are recvmsg's (EAGAIN with MSG_DONTWAIT or on SO_RCVTIMEO expiry).
    public static func receive(
        socket fd: Int32,
        into buffer: UnsafeMutableRawBufferPointer,
        relay: IPEndpoint,
        flags: Int32 = 0,
        accept: (SOCKSAddress) -> Bool = { _ in true },
        dropped: (DatagramDropReason) -> Void = { _ in }
    ) throws(SOCKS5Error) -> ReceivedDatagram {
        // MSG_PEEK would return the same datagram forever to this loop.
        let flags = flags & ~Int32(MSG_PEEK)
        return try withUnsafeTemporaryAllocation(byteCount: UDPDatagramHeader.maximumLength, alignment: 8) {
            (scratch) throws(SOCKS5Error) -> ReceivedDatagram in
            while true {
                var source = sockaddr_storage()
                var vectors = (
                    iovec(iov_base: scratch.baseAddress, iov_len: scratch.count),
                    iovec(iov_base: buffer.baseAddress, iov_len: buffer.count)
                )
                let total: Int = withUnsafeMutablePointer(to: &source) { sourcePointer in
                    withUnsafeMutableBytes(of: &vectors) { v in
                        var message = msghdr()
                        message.msg_name = UnsafeMutableRawPointer(sourcePointer)
                        message.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
                        message.msg_iov = v.baseAddress!.assumingMemoryBound(to: iovec.self)
                        message.msg_iovlen = buffer.count > 0 ? 2 : 1
                        // MSG_TRUNC: the return value is the datagram's real length.
                        return recvmsg(fd, &message, flags | Int32(MSG_TRUNC))
                    }
                }
                if total < 0 {
                    let e = errno
                    if e == EINTR { continue }
                    throw .system(e, "recvmsg from the relay \(relay)", hint: Self.datagramHint(e))
                }
                let inScratch = min(total, scratch.count)
                let parsed: DatagramFilter.Accepted
                switch verdict(
                    source: IPEndpoint(storage: source),
                    relay: relay,
                    length: total,
                    headerBytes: UnsafeRawBufferPointer(rebasing: scratch[0..<inScratch]),
                    accept: accept
                ) {
                case .accepted(let accepted): parsed = accepted
                case .dropped(let reason):
                    dropped(reason)
                    continue
                }
                // The payload starts in the scratch buffer and goes on in `buffer`: slide the
                // part in `buffer` right, then put the scratch part in front of it.
                let payloadLength = total - parsed.payloadOffset
                let headPart = inScratch - parsed.payloadOffset
                let tailPart = max(min(total, scratch.count + buffer.count) - scratch.count, 0)
                let delivered = min(payloadLength, buffer.count)
                if let base = buffer.baseAddress, delivered > 0 {
                    let tailKept = max(min(tailPart, delivered - headPart), 0)
                    if tailKept > 0 { memmove(base + headPart, base, tailKept) }
                    memcpy(base, scratch.baseAddress! + parsed.payloadOffset, min(headPart, delivered))
                }
                return ReceivedDatagram(sender: parsed.header.address, length: delivered, originalLength: payloadLength)
            }
        }
    }
}
