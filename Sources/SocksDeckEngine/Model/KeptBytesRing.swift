import NIOCore

/// The newest `capacity` entries, each with the first `bytesPerEntry` bytes of its datagram, kept
/// in storage allocated once: appending copies the bytes and allocates nothing, which a datagram
/// path needs (an association's recent datagrams, a forward flow's). Reading them out copies.
struct KeptBytesRing<Entry: Sendable> {
    let bytesPerEntry: Int
    private var entries: RingBuffer<Kept>
    private var bytes: [UInt8]

    private struct Kept: Sendable {
        var entry: Entry
        var count: Int
    }

    init(capacity: Int, bytesPerEntry: Int) {
        self.bytesPerEntry = bytesPerEntry
        entries = RingBuffer(capacity: capacity)
        bytes = [UInt8](repeating: 0, count: capacity * bytesPerEntry)
    }

    mutating func append(_ entry: Entry, firstBytes: ByteBufferView) {
        let kept = min(firstBytes.count, bytesPerEntry)
        let base = (entries.totalAppended % entries.capacity) * bytesPerEntry
        // One copy of contiguous bytes; an element-by-element loop over the view costs an
        // allocation per byte in unoptimised builds (measured by DatagramPathAllocationTests).
        if kept > 0 {
            bytes.withUnsafeMutableBytes { destination in
                _ = firstBytes.withContiguousStorageIfAvailable { source in
                    destination.baseAddress!.advanced(by: base).copyMemory(from: source.baseAddress!, byteCount: kept)
                }
            }
        }
        entries.append(Kept(entry: entry, count: kept))
    }

    /// Oldest first, each with the bytes kept of it.
    var elements: [(entry: Entry, bytes: [UInt8])] {
        let all = entries.elements
        let first = entries.totalAppended - all.count
        return all.enumerated().map { offset, kept in
            let base = ((first + offset) % entries.capacity) * bytesPerEntry
            return (kept.entry, Array(bytes[base..<base + kept.count]))
        }
    }
}
