import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Keeps a data socket's receive buffer from holding memory that only small datagrams pass
/// through, while it stays large enough for any datagram to arrive whole.
///
/// NIO keeps one pooled receive buffer per channel, of the configured size (64 KiB by default).
/// Its first read copies the fresh buffer whole (a copy-on-write inside NIO's pool), which makes
/// all of it resident: 64 KiB per association that carries only 40-byte probes. A large
/// datagram does the same later. The bytes past the datagram just read are not data: NIO writes
/// the next datagram before anything reads there. So the whole pages past it can go back to the
/// kernel (MADV_DONTNEED), which hands them back zeroed when a larger datagram needs them.
///
/// Written by hand because NIO has no knob for it: its pool neither shrinks nor shares a buffer.
struct ReceiveBufferPages {
    /// Pages are given back only when more than this may be resident, and only after a datagram
    /// no larger than this, so that a run of large datagrams costs no system call.
    static let kept = 8_192
    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// How much of the buffer may be resident; the first read may have touched all of it.
    private var maybeResident = Int.max

    /// Called with each datagram exactly as NIO's datagram read handed it over: its bytes start
    /// the storage, and nobody holds bytes of that storage past them (NIO's pool holds only the
    /// space it will read the next datagram into). Any other buffer must not come here.
    mutating func datagramRead(_ buffer: ByteBuffer) {
        let length = buffer.writerIndex
        if buffer.readerIndex == 0, length <= Self.kept, maybeResident > Self.kept {
            maybeResident = Self.discardPages(of: buffer, after: length)
        } else {
            maybeResident = max(maybeResident, length)
        }
    }

    /// Gives back the whole pages of `buffer`'s storage past `length`; returns how much of the
    /// buffer may stay resident.
    static func discardPages(of buffer: ByteBuffer, after length: Int) -> Int {
        buffer.withVeryUnsafeBytes { storage in
            guard let base = storage.baseAddress, storage.count > kept else { return storage.count }
            let start = (Int(bitPattern: base) + length + pageSize - 1) / pageSize * pageSize
            let end = (Int(bitPattern: base) + storage.count) / pageSize * pageSize
            guard end > start, let page = UnsafeMutableRawPointer(bitPattern: start) else { return storage.count }
            // Only whole pages inside this buffer's own storage; the allocator's bookkeeping
            // before and after it is never touched.
            return madvise(page, end - start, MADV_DONTNEED) == 0 ? start - Int(bitPattern: base) : storage.count
        }
    }
}
