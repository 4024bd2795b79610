import AllocationCounter
import NIOCore
import Testing

@testable import SocksDeckEngine

/// The ring behind an association's and a forward flow's recent datagrams: the newest entries,
/// oldest first, each with its first bytes, and no allocation per datagram once made.
@Suite struct KeptBytesRingTests {
    @Test func theNewestAreKeptOldestFirstWithTheirFirstBytes() {
        var ring = KeptBytesRing<Int>(capacity: 3, bytesPerEntry: 4)
        for i in 1...5 {
            let datagram = ByteBuffer(bytes: [UInt8](repeating: UInt8(i), count: i))
            ring.append(i, firstBytes: datagram.readableBytesView)
        }
        let kept = ring.elements
        #expect(kept.map(\.entry) == [3, 4, 5])
        // Each keeps its own bytes, at most four, even where its slot held a longer one before.
        #expect(kept.map(\.bytes) == [[3, 3, 3], [4, 4, 4, 4], [5, 5, 5, 5]])
        var empty = KeptBytesRing<Int>(capacity: 2, bytesPerEntry: 8)
        empty.append(0, firstBytes: ByteBuffer().readableBytesView)
        #expect(empty.elements.map(\.bytes) == [[]])
    }

    @Test(.enabled(if: allocation_counter_available() == 1, "the sanitizers own malloc"))
    func appendingAllocatesNothing() {
        var ring = KeptBytesRing<Int>(capacity: 32, bytesPerEntry: 512)
        let datagram = ByteBuffer(bytes: [UInt8](repeating: 7, count: 1200))
        for i in 0..<100 { ring.append(i, firstBytes: datagram.readableBytesView) }
        allocation_counter_start()
        for i in 0..<1000 { ring.append(i, firstBytes: datagram.readableBytesView) }
        #expect(allocation_counter_stop() == 0)
        #expect(ring.elements.count == 32 && ring.elements.last?.bytes.count == 512)
    }
}
