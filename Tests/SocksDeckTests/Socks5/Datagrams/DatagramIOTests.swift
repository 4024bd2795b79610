import AllocationCounter
import Foundation
import Testing

@testable import Socks5

/// The datagram path against a relay played by a local UDP socket, to produce what a real relay
/// does not: fragments, malformed headers, oversize payloads. Dante covers the genuine path.
@Suite struct DatagramIOTests: PlayedRelay {
    let client = TestSockets.datagram(.ipv4, receiveTimeoutMilliseconds: 2000)
    let relay = TestSockets.datagram(.ipv4)

    @Test func fragmentsAndMalformedHeadersAreDroppedByReason() throws {
        defer { closeSockets() }
        relaySends(datagram("fragment", fragment: 1))
        relaySends(datagram("last fragment", fragment: 0x81))
        relaySends([0, 0, 0])  // shorter than any header
        relaySends([0, 0, 0, 1, 192, 0])  // address cut short
        relaySends([0, 0, 0, 3, 200, 0x61, 0x62])  // claims a 200-byte name
        relaySends([0, 0, 0, 9, 1, 2, 3, 4, 0, 0])  // ATYP 9
        relaySends(datagram("whole"))
        var drops: [DatagramDropReason] = []
        var buffer = [UInt8](repeating: 0, count: 100)
        let d = try buffer.withUnsafeMutableBytes {
            try DatagramIO.receive(socket: client, into: $0, relay: relayEndpoint, dropped: { drops.append($0) })
        }
        #expect(String(decoding: buffer[0..<d.length], as: UTF8.self) == "whole")
        #expect(d.sender == .ip(IPEndpoint("192.0.2.7:53")!))
        #expect(
            drops == [.fragmented, .fragmented, .malformedHeader, .malformedHeader, .malformedHeader, .malformedHeader]
        )
    }

    @Test(arguments: [0, 1, 5, 200, 252, 253, 300, 5000])
    func payloadsAreTruncatedToTheBufferLikeRecvfrom(bufferSize: Int) throws {
        defer { closeSockets() }
        let payload = (0..<1000).map { UInt8(truncatingIfNeeded: $0 * 31) }
        relaySends(datagram("") + payload)
        var buffer = [UInt8](repeating: 0xEE, count: bufferSize)
        let d = try buffer.withUnsafeMutableBytes {
            try DatagramIO.receive(socket: client, into: $0, relay: relayEndpoint)
        }
        #expect(d.originalLength == 1000)
        #expect(d.length == min(1000, bufferSize))
        #expect(Array(buffer[0..<d.length]) == Array(payload[0..<d.length]))
    }

    @Test func dontWaitWithNothingValidIsEAGAIN() {
        defer { closeSockets() }
        relaySends(datagram("frag", fragment: 2))
        usleep(20_000)
        var buffer = [UInt8](repeating: 0, count: 64)
        #expect {
            _ = try buffer.withUnsafeMutableBytes {
                try DatagramIO.receive(socket: client, into: $0, relay: relayEndpoint, flags: Int32(MSG_DONTWAIT))
            }
        } throws: { ($0 as! SOCKS5Error).systemError == EAGAIN }
    }

    @Test func sendPrependsTheHeader() throws {
        defer { closeSockets() }
        try Array("payload".utf8).withUnsafeBytes {
            try DatagramIO.send(
                socket: client,
                payload: $0,
                to: .ip(IPEndpoint("[2001:db8::1]:7")!),
                relay: relayEndpoint
            )
        }
        var buffer = [UInt8](repeating: 0, count: 100)
        let n = recv(relay, &buffer, 100, 0)
        #expect(
            Array(buffer[0..<n]) == [0, 0, 0, 4, 0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1, 0, 7]
                + Array("payload".utf8)
        )
    }

    @Test func aPayloadOverTheUDPMaximumIsEMSGSIZE() {
        defer { closeSockets() }
        let limit = 65_507 - 10
        let big = [UInt8](repeating: 1, count: limit + 1)
        #expect {
            try big.withUnsafeBytes {
                try DatagramIO.send(
                    socket: client,
                    payload: $0,
                    to: .ip(IPEndpoint("127.0.0.1:9")!),
                    relay: relayEndpoint
                )
            }
        } throws: { ($0 as! SOCKS5Error).systemError == EMSGSIZE }
    }

    /// Same interposer as the header test: sending and receiving a datagram, header included,
    /// allocates nothing.
    @Test(.enabled(if: allocation_counter_available() == 1, "the sanitizers own malloc"))
    func sendAndReceiveDoNotAllocate() throws {
        defer { closeSockets() }
        let payload = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
        let inbound = UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 8)
        defer {
            payload.deallocate()
            inbound.deallocate()
        }
        let target = SOCKSAddress.ip(IPEndpoint("127.0.0.1:9999")!)
        let relayAt = relayEndpoint
        let reply = datagram("echo")
        var received = 0
        // One round trip first: the runtime makes some type metadata at its first use (two
        // allocations, once per process, measured), which is not the datagram path's cost.
        try DatagramIO.send(socket: client, payload: UnsafeRawBufferPointer(payload), to: target, relay: relayAt)
        relaySends(reply)
        _ = try DatagramIO.receive(socket: client, into: inbound, relay: relayAt)
        allocation_counter_start()
        for _ in 0..<200 {
            try DatagramIO.send(socket: client, payload: UnsafeRawBufferPointer(payload), to: target, relay: relayAt)
            relaySends(reply)
            received += try DatagramIO.receive(socket: client, into: inbound, relay: relayAt).length
        }
        let allocations = allocation_counter_stop()
        #expect(received == 200 * 4)
        #expect(allocations == 0)
    }
}
