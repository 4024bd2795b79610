import AllocationCounter
import Testing

@testable import Socks5

@Suite struct UDPDatagramHeaderTests {
    private func encode(_ h: UDPDatagramHeader) -> [UInt8] {
        var bytes = [UInt8](repeating: 0xEE, count: UDPDatagramHeader.maximumLength)
        let n = bytes.withUnsafeMutableBytes { h.write(into: $0) }
        #expect(n == h.encodedLength)
        return Array(bytes[0..<n])
    }

    @Test func headerBytesForEveryAddressType() {
        #expect(
            encode(UDPDatagramHeader(address: .ip(IPEndpoint("127.0.0.1:9999")!))) == [
                0, 0, 0, 1, 127, 0, 0, 1, 0x27, 0x0F,
            ]
        )
        #expect(
            encode(UDPDatagramHeader(address: .ip(IPEndpoint("[::1]:53")!))) == [0, 0, 0, 4]
                + [UInt8](repeating: 0, count: 15) + [1, 0, 53]
        )
        #expect(
            encode(UDPDatagramHeader(fragment: 0x81, address: .domain(DomainName("a.b")!, port: 1))) == [
                0, 0, 0x81, 3, 3, 0x61, 0x2E, 0x62, 0, 1,
            ]
        )
    }

    @Test func overheadIs10For4And22For6And7PlusNameLength() {
        #expect(UDPDatagramHeader(address: .unspecified(.ipv4)).encodedLength == 10)
        #expect(UDPDatagramHeader(address: .unspecified(.ipv6)).encodedLength == 22)
        #expect(
            UDPDatagramHeader(address: .domain(DomainName(String(repeating: "x", count: 255))!, port: 0)).encodedLength
                == 262
        )
        #expect(UDPDatagramHeader.maximumLength == 262)
    }

    @Test func parseReturnsHeaderAndPayloadOffset() throws {
        let datagram: [UInt8] = [0, 0, 0, 1, 10, 0, 0, 1, 0, 7] + Array("hi".utf8)
        let (header, offset) = try datagram.withUnsafeBytes { try UDPDatagramHeader.parse($0) }
        #expect(header == UDPDatagramHeader(address: .ip(IPEndpoint("10.0.0.1:7")!)))
        #expect(offset == 10)
        let v6: [UInt8] = [0, 0, 3, 4] + [UInt8](repeating: 0, count: 15) + [1, 0, 9]
        let (h6, o6) = try v6.withUnsafeBytes { try UDPDatagramHeader.parse($0) }
        #expect(h6.fragment == 3 && o6 == 22)
    }

    @Test(arguments: [
        [] as [UInt8], [0, 0, 0], [0, 0, 0, 1, 127, 0, 0, 1, 0],
        [0, 0, 0, 4, 0, 0], [0, 0, 0, 3], [0, 0, 0, 3, 200, 0x61, 0x62, 0, 1],
    ])
    func truncatedHeadersAreRejected(datagram: [UInt8]) {
        #expect(throws: MalformedDatagram.truncated(length: datagram.count)) {
            try datagram.withUnsafeBytes { try UDPDatagramHeader.parse($0) }
        }
    }

    @Test func badAddressTypesAreRejected() {
        #expect(throws: MalformedDatagram.badAddress(.unknownAddressType(2))) {
            try [UInt8]([0, 0, 0, 2, 1, 2, 3, 4, 0, 0]).withUnsafeBytes { try UDPDatagramHeader.parse($0) }
        }
        #expect(throws: MalformedDatagram.badAddress(.emptyDomainName)) {
            try [UInt8]([0, 0, 0, 3, 0, 0, 0]).withUnsafeBytes { try UDPDatagramHeader.parse($0) }
        }
    }

    /// Counted with a malloc/calloc/realloc interposer linked into the test binary
    /// (Tests/AllocationCounter): 1,000 encodes and parses of IPv4 and IPv6 headers, zero calls.
    @Test(.enabled(if: allocation_counter_available() == 1, "the sanitizers own malloc"))
    func buildingAndParsingAHeaderDoesNotAllocate() throws {
        let v4 = UDPDatagramHeader(address: .ip(IPEndpoint("127.0.0.1:9999")!))
        let v6 = UDPDatagramHeader(address: .ip(IPEndpoint("[::1]:9999")!))
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 512, alignment: 8)
        defer { buffer.deallocate() }
        var checksum = 0
        allocation_counter_start()
        for i in 0..<1000 {
            let header = i % 2 == 0 ? v4 : v6
            let n = header.write(into: buffer)
            if let (parsed, offset) = try? UDPDatagramHeader.parse(UnsafeRawBufferPointer(rebasing: buffer[0..<n])) {
                checksum &+= offset &+ Int(parsed.address.port)
            }
        }
        let allocations = allocation_counter_stop()
        #expect(allocations == 0)
        #expect(checksum == 1000 * 9999 + 500 * 10 + 500 * 22)
    }

    @Test(.enabled(if: allocation_counter_available() == 1, "the sanitizers own malloc"))
    func theAllocationCounterCountsAllocations() {
        allocation_counter_start()
        let array = [Int](repeating: 7, count: Int.random(in: 100...200))
        let allocations = allocation_counter_stop()
        #expect(array.count >= 100)
        #expect(allocations >= 1)
    }
}
