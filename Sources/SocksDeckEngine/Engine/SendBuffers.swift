import NIOCore

/// A socket's send buffers, and the writes it holds back while one read is handled: its own
/// socket's read (an echo's successor), or a forward's local socket's (an application's burst),
/// or, for a forward's replies, the association's read that brought them. Those writes then go
/// out in one flush, which NIO writes with one sendmmsg. A datagram sent outside such a read (a
/// probe's timer, a user's send) is flushed at once: holding adds no wait.
///
/// Buffers are reused once the socket is done with them, so a steady path allocates nothing per
/// datagram (ReadBatchingTests): one buffer between reads, at most `mostHeld` during one.
struct SendBuffers {
    /// Larger buffers are not kept: one large send must not cost every socket its size.
    static let pooledBufferBytes = 2048
    /// The most writes held back before a flush: NIO's sendmmsg takes this many at a time.
    static let mostHeld = 32

    /// Unshared buffers, ready to be written into.
    private var spare: [ByteBuffer] = []
    /// Written to the channel but not flushed: they stay out of `spare` until the flush.
    private var held: [ByteBuffer] = []
    private var heldUnpooled = 0
    /// True while writes are held for the end of the read being handled.
    private(set) var holding = false

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
        guard holding else {
            if pooled { spare.append(buffer) }
            return true
        }
        if pooled { held.append(buffer) } else { heldUnpooled += 1 }
        guard held.count + heldUnpooled >= Self.mostHeld else { return false }
        flushed()
        return true
    }

    /// Writes from now on wait for `release`.
    mutating func hold() { holding = true }

    /// The read is over: says whether writes wait for a flush (which the caller makes).
    mutating func release() -> Bool {
        holding = false
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
