import NIOCore
import Socks5
import Testing

@testable import SocksDeckEngine

/// The receive buffer gives back the pages past a small datagram, never a byte of the datagram,
/// and a run of large datagrams costs no system call.
@Suite struct ReceiveBufferPagesTests {
    /// A 64 KiB buffer as NIO's read leaves it: every byte written once (the pool's first copy),
    /// then a datagram of `length` bytes at its start.
    static func readBuffer(_ length: Int) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: 65_536)
        buffer.writeRepeatingByte(0xAB, count: 65_536)
        buffer.moveWriterIndex(to: length)
        return buffer
    }

    /// Bytes of the storage past the datagram that read as zero: given back to the kernel.
    static func zeroedBytes(_ buffer: ByteBuffer) -> Int {
        buffer.withVeryUnsafeBytes { storage in storage[buffer.writerIndex...].filter { $0 == 0 }.count }
    }

    @Test func thePagesPastASmallDatagramAreGivenBackAndItsBytesKept() {
        let page = ReceiveBufferPages.pageSize
        let buffer = Self.readBuffer(100)
        // What stays is the datagram and the rest of its last page (malloc's storage need not
        // start on a page); every whole page after it reads as zero.
        let resident = ReceiveBufferPages.discardPages(of: buffer, after: 100)
        #expect((100..<100 + page).contains(resident))
        #expect(buffer.readableBytesView.allSatisfy { $0 == 0xAB })
        #expect(Self.zeroedBytes(buffer) >= 65_536 - resident - page)
    }

    @Test func aDatagramEndingOnAPageKeepsThatPageWhole() {
        let page = ReceiveBufferPages.pageSize
        let buffer = Self.readBuffer(page + 1)
        let resident = ReceiveBufferPages.discardPages(of: buffer, after: page + 1)
        #expect((page + 1..<2 * page + 1).contains(resident))
        #expect(buffer.readableBytesView.allSatisfy { $0 == 0xAB })
    }

    /// The first small datagram gives pages back; large ones do not; the small one after them
    /// does; further small ones do not (nothing more can be resident).
    @Test func pagesGoBackOnlyAfterASmallDatagramWhenMoreMayBeResident() {
        var pages = ReceiveBufferPages()
        func read(_ length: Int) -> Bool {
            let buffer = Self.readBuffer(length)
            pages.datagramRead(buffer)
            return Self.zeroedBytes(buffer) > 0
        }
        #expect(read(40))
        #expect(!read(40))
        #expect(!read(60_000))
        #expect(!read(30_000))
        #expect(read(40))
        #expect(!read(ReceiveBufferPages.kept))
    }
}
