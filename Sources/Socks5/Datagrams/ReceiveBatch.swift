import CSocketBatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Room for receiving up to `capacity` datagrams with one recvmmsg(2), kept from call to call:
/// the datagrams' bytes, the addresses the kernel fills in and the message headers pointing at
/// both are allocated once, so a receive allocates nothing.
///
/// Each datagram is received whole (header and payload) into a slot of its own and its payload
/// is read in place; nothing is moved. What a receive took is valid until the next one.
///
///     let batch = ReceiveBatch(capacity: 32)
///     let count = try association.receive(into: batch)
///     for i in 0..<count { handle(batch[i].sender, batch.payload(i)) }
public final class ReceiveBatch {
    /// The most datagrams one receive takes.
    public let capacity: Int
    /// The payload bytes a slot holds at least: longer payloads are cut, as recvfrom cuts them,
    /// and `ReceivedDatagram.originalLength` says by how much. A datagram with a short header
    /// (10 bytes for IPv4) may deliver a little more.
    public let payloadCapacity: Int

    /// A slot: the longest header, then `payloadCapacity`.
    let slotLength: Int
    let bytes: UnsafeMutableRawPointer
    let messages: UnsafeMutablePointer<socket_batch_message>
    let vectors: UnsafeMutablePointer<iovec>
    let names: UnsafeMutablePointer<sockaddr_storage>
    /// The datagrams the filter took, in arrival order.
    var taken: [Taken]

    struct Taken {
        var datagram: ReceivedDatagram
        /// Where the payload starts, from `bytes`.
        var payloadStart: Int
    }

    /// `capacity` datagrams of up to `payloadCapacity` payload bytes each (by default the UDP
    /// maximum, so nothing is cut: 32 × 64 KiB of address space, touched only as far as the
    /// datagrams received reach).
    public init(capacity: Int = 32, payloadCapacity: Int = UDPLimits.maximumPayload(.ipv6)) {
        precondition(capacity > 0 && payloadCapacity >= 0, "a batch needs room for a datagram")
        self.capacity = capacity
        self.payloadCapacity = payloadCapacity
        slotLength = UDPDatagramHeader.maximumLength + payloadCapacity
        bytes = .allocate(byteCount: slotLength * capacity, alignment: 16)
        messages = .allocate(capacity: capacity)
        vectors = .allocate(capacity: capacity)
        names = .allocate(capacity: capacity)
        taken = []
        taken.reserveCapacity(capacity)
        for i in 0..<capacity {
            (vectors + i).initialize(to: iovec(iov_base: bytes + i * slotLength, iov_len: slotLength))
            (names + i).initialize(to: sockaddr_storage())
            var message = socket_batch_message()
            message.header.vectors = UnsafeMutableRawPointer(vectors + i)
            message.header.vector_count = 1
            message.header.name = UnsafeMutableRawPointer(names + i)
            (messages + i).initialize(to: message)
        }
    }

    deinit {
        bytes.deallocate()
        messages.deallocate()
        vectors.deallocate()
        names.deallocate()
    }

    /// The datagrams the last receive took.
    public var count: Int { taken.count }

    /// The `index`th datagram the last receive took: its sender and lengths.
    public subscript(index: Int) -> ReceivedDatagram { taken[index].datagram }

    /// The `index`th datagram's payload (its first `length` bytes), valid until the next receive.
    public func payload(_ index: Int) -> UnsafeRawBufferPointer {
        let entry = taken[index]
        return UnsafeRawBufferPointer(start: bytes + entry.payloadStart, count: entry.datagram.length)
    }

    /// One recvmmsg into every slot, then the filter over what came: what it takes is appended
    /// to `taken`, what it drops goes to `dropped`. Returns recvmmsg's count (datagrams read,
    /// taken or not), or -1 with errno set.
    func fill(
        socket fd: Int32,
        flags: Int32,
        relay: IPEndpoint,
        accept: (SOCKSAddress) -> Bool,
        dropped: (DatagramDropReason) -> Void
    ) -> Int {
        for i in 0..<capacity {
            messages[i].header.name_length = UInt32(MemoryLayout<sockaddr_storage>.size)
            messages[i].header.flags = 0
        }
        // MSG_TRUNC: each message's length is the datagram's real length, as recvmsg returns it.
        let read = Int(socket_batch_receive(fd, messages, UInt32(capacity), flags | Int32(MSG_TRUNC)))
        guard read > 0 else { return read }
        for i in 0..<read {
            let total = Int(messages[i].length)
            let slot = i * slotLength
            let inSlot = min(total, slotLength)
            let accepted: DatagramFilter.Accepted
            switch DatagramIO.verdict(
                source: IPEndpoint(storage: names[i]),
                relay: relay,
                length: total,
                headerBytes: UnsafeRawBufferPointer(start: bytes + slot, count: inSlot),
                accept: accept
            ) {
            case .accepted(let a): accepted = a
            case .dropped(let reason):
                dropped(reason)
                continue
            }
            let datagram = ReceivedDatagram(
                sender: accepted.header.address,
                length: inSlot - accepted.payloadOffset,
                originalLength: total - accepted.payloadOffset
            )
            taken.append(Taken(datagram: datagram, payloadStart: slot + accepted.payloadOffset))
        }
        return read
    }

    /// Forgets what the last receive took.
    func reset() { taken.removeAll(keepingCapacity: true) }
}
