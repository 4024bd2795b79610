import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// The payload of a datagram the engine sends to an echo target and must recognise on its way
/// back (health probes, echo loads): an 8-byte magic naming its kind, the association, a sequence
/// number, then zeros up to the size asked for. Its echo is matched on all three, so that an
/// echo meant for another association, or another kind of sender, is never counted.
enum TaggedPayload {
    static let headerLength = 8 + 8 + 8

    static func write(magic: [UInt8], association: Int, sequence: UInt64, length: Int, into buffer: inout ByteBuffer) {
        buffer.writeBytes(magic)
        buffer.writeInteger(UInt64(association))
        buffer.writeInteger(sequence)
        if length > headerLength { buffer.writeRepeatingByte(0, count: length - headerLength) }
    }

    /// The sequence number of an echo of a payload written with `magic` for `association`.
    static func sequence(in payload: ByteBufferView, magic: [UInt8], association: Int) -> UInt64? {
        guard payload.count >= headerLength else { return nil }
        // Read in place from the contiguous bytes: every datagram passes here, and iterating a
        // ByteBufferView element by element allocates in unoptimised builds.
        let fields = payload.withContiguousStorageIfAvailable { bytes -> (UInt64, UInt64)? in
            let raw = UnsafeRawBufferPointer(bytes)
            guard magic.withUnsafeBytes({ memcmp($0.baseAddress!, raw.baseAddress!, 8) == 0 }) else { return nil }
            return (
                UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
                UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
            )
        }
        guard let (id, seq) = fields ?? nil, id == UInt64(association) else { return nil }
        return seq
    }
}
