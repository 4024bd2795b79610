import NIOCore

/// An association's send buffers, and the writes it holds back while the datagrams of one read
/// are handled: a reply that sends its successor (an echo load, a forward's client) then goes out
/// with the others of that read in one flush, which NIO writes with one sendmmsg. A datagram sent
/// outside a read (a probe's timer, a user's send) is flushed at once: batching adds no wait.
///
/// Buffers are reused once the socket is done with them, so a steady path allocates nothing per
/// datagram (DatagramPathAllocationTests): one buffer between reads, at most `mostHeld` during one.
struct SendBuffers {
    /// Larger buffers are not kept: one large send must not cost every association its size.
    static let pooledBufferBytes = 2048
    /// The most writes held back before a flush: NIO's sendmmsg takes this many at a time.
    static let mostHeld = 32

    /// Unshared buffers, ready to be written into.
    private var spare: [ByteBuffer] = []
    /// Written to the channel but not flushed: they stay out of `spare` until the flush.
    private var held: [ByteBuffer] = []
    private var heldUnpooled = 0
    /// True while the channel hands over the datagrams of one read.
    private(set) var inRead = false

    /// A buffer for the next datagram: a spare one when large enough (clearing an unshared
    /// buffer allocates nothing), otherwise a new one.
    mutating func take(capacity: Int, _ allocator: ByteBufferAllocator) -> ByteBuffer {
        if var buffer = spare.popLast(), buffer.capacity >= capacity {
            buffer.clear()
            return buffer
        }
        return allocator.buffer(capacity: max(capacity, Self.pooledBufferBytes))
    }

    /// Says whether the datagram written from `buffer` must be flushed now; its buffer is kept for
    /// reuse (after the flush when held back).
    mutating func written(_ buffer: ByteBuffer) -> Bool {
        let pooled = buffer.capacity <= Self.pooledBufferBytes
        guard inRead else {
            if pooled { spare.append(buffer) }
            return true
        }
        if pooled { held.append(buffer) } else { heldUnpooled += 1 }
        guard held.count + heldUnpooled >= Self.mostHeld else { return false }
        flushed()
        return true
    }

    mutating func readBegan() { inRead = true }

    /// The read is over: says whether writes are waiting for a flush.
    mutating func readEnded() -> Bool {
        inRead = false
        let waiting = !held.isEmpty || heldUnpooled > 0
        flushed()
        return waiting
    }

    /// The held buffers are the socket's no longer once flushed (NIO drops a datagram it has
    /// written): they become spare.
    private mutating func flushed() {
        spare.append(contentsOf: held)
        held.removeAll(keepingCapacity: true)
        heldUnpooled = 0
    }
}
