import CSocketBatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Many datagrams per system call: recvmmsg(2) and sendmmsg(2), for callers that move many
/// datagrams, such as a load generator. The rules are those of one datagram at a time
/// (`DatagramIO.send`, `DatagramIO.receive`), and the filter is the same `DatagramFilter`.
extension DatagramIO {
    /// The most datagrams one sendmmsg is given (its vector lives on the stack); longer lists go
    /// out in several calls.
    static let sendChunk = 64

    /// Receives the datagrams queued on the data socket into `batch`, at least one, and returns
    /// how many the filter took (`batch[i]`, `batch.payload(i)`). Blocks for the first one
    /// (SO_RCVTIMEO applies; EAGAIN when it expires, or at once with MSG_DONTWAIT) and then takes
    /// what is queued without waiting.
    ///
    /// `gathering`: when nothing is queued, sleep this long before waiting. A relay slower than its
    /// client (Dante hands back one datagram at a time) otherwise wakes the client for every
    /// datagram, and the wake-up is most of what each datagram costs it; a pause of about the
    /// time a few datagrams take lets them arrive together, for one wake-up. The price is that
    /// much latency, so it is for throughput (keep enough datagrams in flight to cover it), not
    /// for measuring round trips. nil (the default) or zero never pauses.
    public static func receive(
        socket fd: Int32,
        into batch: ReceiveBatch,
        relay: IPEndpoint,
        flags: Int32 = 0,
        gathering: Duration? = nil,
        accept: (SOCKSAddress) -> Bool = { _ in true },
        dropped: (DatagramDropReason) -> Void = { _ in }
    ) throws(SOCKS5Error) -> Int {
        let flags = flags & ~Int32(MSG_PEEK)
        let dontWait = flags & Int32(MSG_DONTWAIT) != 0
        batch.reset()
        if let gathering, gathering > .zero, !dontWait {
            // What is queued already needs no pause; only an empty queue is worth gathering for.
            if try fillTaking(batch, fd, flags | Int32(MSG_DONTWAIT), relay, accept, dropped) { return batch.count }
            var pause = timespec(gathering)
            var left = timespec()
            while nanosleep(&pause, &left) != 0 && errno == EINTR { pause = left }
            if try fillTaking(batch, fd, flags | Int32(MSG_DONTWAIT), relay, accept, dropped) { return batch.count }
        }
        let waitFlags = dontWait ? flags : flags | SOCKET_BATCH_WAIT_FOR_ONE
        while true {
            if try fillTaking(batch, fd, waitFlags, relay, accept, dropped, emptyIsError: true) { return batch.count }
        }
    }

    /// One fill of `batch`; true when the filter took a datagram. EAGAIN is an empty queue
    /// (false) unless `emptyIsError`; every other error, and EAGAIN then, is thrown.
    private static func fillTaking(
        _ batch: ReceiveBatch,
        _ fd: Int32,
        _ flags: Int32,
        _ relay: IPEndpoint,
        _ accept: (SOCKSAddress) -> Bool,
        _ dropped: (DatagramDropReason) -> Void,
        emptyIsError: Bool = false
    ) throws(SOCKS5Error) -> Bool {
        while true {
            if batch.fill(socket: fd, flags: flags, relay: relay, accept: accept, dropped: dropped) >= 0 {
                return batch.count > 0
            }
            let e = errno
            if e == EINTR { continue }
            if (e == EAGAIN || e == EWOULDBLOCK) && !emptyIsError { return false }
            throw .system(e, "recvmmsg from the relay \(relay)", hint: datagramHint(e))
        }
    }

    /// Sends every payload to `target` through the relay at `relay`, up to `sendChunk` per
    /// sendmmsg, with one header shared by all. Returns how many went out: all of them, or, when
    /// the kernel refused one after some had gone (a full send buffer with MSG_DONTWAIT), those
    /// before it; the error is thrown only when not one went. EMSGSIZE, before anything is sent,
    /// when a payload with the header exceeds the UDP maximum.
    @discardableResult
    public static func send(
        socket fd: Int32,
        payloads: [UnsafeRawBufferPointer],
        to target: SOCKSAddress,
        relay: IPEndpoint,
        flags: Int32 = 0
    ) throws(SOCKS5Error) -> Int {
        try payloads.withUnsafeBufferPointer { (p) throws(SOCKS5Error) -> Int in
            try send(socket: fd, payloads: p, to: target, relay: relay, flags: flags)
        }
    }

    /// The same, for payloads listed in memory the caller keeps (a slice of a list made once, so
    /// that a loop sending a varying number makes no array per call).
    @discardableResult
    public static func send(
        socket fd: Int32,
        payloads: UnsafeBufferPointer<UnsafeRawBufferPointer>,
        to target: SOCKSAddress,
        relay: IPEndpoint,
        flags: Int32 = 0
    ) throws(SOCKS5Error) -> Int {
        let header = UDPDatagramHeader(address: target)
        for payload in payloads { try checkFits(header, payloadLength: payload.count, relay: relay) }
        var name = sockaddr_storage()
        let nameLength = withUnsafeMutableBytes(of: &name) { relay.write(to: $0.baseAddress!) }
        var sent = 0
        var failure: Int32 = 0
        withUnsafeTemporaryAllocation(byteCount: UDPDatagramHeader.maximumLength, alignment: 8) { headerBytes in
            let headerLength = header.write(into: headerBytes)
            withUnsafeTemporaryAllocation(of: socket_batch_message.self, capacity: sendChunk) { messages in
                withUnsafeTemporaryAllocation(of: iovec.self, capacity: 2 * sendChunk) { vectors in
                    withUnsafeMutablePointer(to: &name) { namePointer in
                        var next = 0
                        while next < payloads.count && failure == 0 {
                            var count = 0
                            while count < sendChunk && next < payloads.count {
                                let payload = payloads[next]
                                vectors[2 * count] = iovec(iov_base: headerBytes.baseAddress, iov_len: headerLength)
                                vectors[2 * count + 1] = iovec(
                                    iov_base: UnsafeMutableRawPointer(mutating: payload.baseAddress),
                                    iov_len: payload.count
                                )
                                var message = socket_batch_message()
                                message.header.name = UnsafeMutableRawPointer(namePointer)
                                message.header.name_length = UInt32(nameLength)
                                message.header.vectors = UnsafeMutableRawPointer(vectors.baseAddress! + 2 * count)
                                message.header.vector_count = payload.count > 0 ? 2 : 1
                                messages[count] = message
                                count += 1
                                next += 1
                            }
                            var done = 0
                            while done < count {
                                let rc = socket_batch_send(
                                    fd,
                                    messages.baseAddress! + done,
                                    UInt32(count - done),
                                    flags | Int32(MSG_NOSIGNAL)
                                )
                                if rc >= 0 {
                                    done += Int(rc)
                                } else if errno != EINTR {
                                    failure = errno
                                    break
                                }
                            }
                            sent += done
                        }
                    }
                }
            }
        }
        if failure != 0 && sent == 0 {
            throw .system(failure, "sendmmsg to the relay \(relay)", hint: datagramHint(failure))
        }
        return sent
    }
}

extension timespec {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self.init(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
    }
}
