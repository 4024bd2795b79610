import AllocationCounter
import CSocketBatch
import Foundation
import Testing

@testable import Socks5

/// recvmmsg and sendmmsg against a relay played by a local UDP socket, which can send what a
/// real relay does not (fragments, strangers, cut headers). Dante covers the genuine path, in
/// `aBatchRoundTripsThroughDante`.
@Suite struct DatagramIOBatchTests: PlayedRelay {
    let client = TestSockets.datagram(.ipv4, receiveTimeoutMilliseconds: 2000)
    let relay = TestSockets.datagram(.ipv4)

    private func payloads(_ batch: ReceiveBatch) -> [String] {
        (0..<batch.count).map { String(decoding: batch.payload($0), as: UTF8.self) }
    }

    @Test func aBatchTakesEveryValidDatagramQueuedAndDropsTheRestByReason() throws {
        let stranger = TestSockets.datagram(.ipv4)
        defer { closeSockets(stranger) }
        relaySends(datagram("one"))
        relaySends(datagram("fragment", fragment: 1))
        relaySends([0, 0, 0, 1, 192, 0])  // address cut short
        relaySends(datagram("from a stranger"), from: stranger)
        relaySends(datagram("two"))
        relaySends(datagram(""))
        usleep(20_000)
        let batch = ReceiveBatch(capacity: 8, payloadCapacity: 64)
        var drops: [DatagramDropReason] = []
        let count = try DatagramIO.receive(
            socket: client,
            into: batch,
            relay: relayEndpoint,
            dropped: { drops.append($0) }
        )
        #expect(count == 3)
        #expect(payloads(batch) == ["one", "two", ""])
        #expect(batch[0].sender == .ip(IPEndpoint("192.0.2.7:53")!))
        #expect(drops == [.fragmented, .malformedHeader, .notFromRelay])
    }

    @Test func moreThanABatchHoldsIsTakenInOrderOverSeveralReceives() throws {
        defer { closeSockets() }
        for i in 0..<10 { relaySends(datagram("datagram \(i)")) }
        usleep(20_000)
        let batch = ReceiveBatch(capacity: 4, payloadCapacity: 64)
        var received: [String] = []
        var counts: [Int] = []
        while received.count < 10 {
            counts.append(try DatagramIO.receive(socket: client, into: batch, relay: relayEndpoint))
            received += payloads(batch)
        }
        #expect(received == (0..<10).map { "datagram \($0)" })
        #expect(counts == [4, 4, 2])
    }

    @Test(arguments: [0, 1, 100, 1000])
    func aPayloadLongerThanItsSlotIsCutAndSaysItsLength(payloadCapacity: Int) throws {
        defer { closeSockets() }
        let payload = (0..<2000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        relaySends(datagram(payload))
        let batch = ReceiveBatch(capacity: 2, payloadCapacity: payloadCapacity)
        #expect(try DatagramIO.receive(socket: client, into: batch, relay: relayEndpoint) == 1)
        // The slot holds the longest header; an IPv4 header (10 bytes) leaves the rest to payload.
        let delivered = min(2000, UDPDatagramHeader.maximumLength + payloadCapacity - 10)
        #expect(batch[0].originalLength == 2000)
        #expect(batch[0].length == delivered)
        #expect(Array(batch.payload(0)) == Array(payload[0..<delivered]))
    }

    @Test func dontWaitWithNothingValidQueuedIsEAGAIN() {
        defer { closeSockets() }
        relaySends(datagram("frag", fragment: 2))
        usleep(20_000)
        let batch = ReceiveBatch(capacity: 4, payloadCapacity: 64)
        for gathering in [nil, Duration.milliseconds(1)] {
            #expect {
                _ = try DatagramIO.receive(
                    socket: client,
                    into: batch,
                    relay: relayEndpoint,
                    flags: Int32(MSG_DONTWAIT),
                    gathering: gathering
                )
            } throws: { ($0 as! SOCKS5Error).systemError == EAGAIN }
            #expect(batch.count == 0)
        }
    }

    @Test func waitingForAnEmptyQueueEndsWithTheReceiveTimeout() {
        defer { closeSockets() }
        TestSockets.setReceiveTimeout(client, milliseconds: 100)
        let batch = ReceiveBatch(capacity: 4, payloadCapacity: 64)
        #expect {
            _ = try DatagramIO.receive(socket: client, into: batch, relay: relayEndpoint, gathering: .milliseconds(5))
        } throws: { ($0 as! SOCKS5Error).systemError == EAGAIN }
    }

    /// Gathering pauses only on an empty queue, and a datagram that comes after the pause is still
    /// waited for.
    @Test func gatheringTakesWhatIsQueuedAtOnceAndWaitsForWhatComesLater() throws {
        defer { closeSockets() }
        let batch = ReceiveBatch(capacity: 8, payloadCapacity: 64)
        for i in 0..<3 { relaySends(datagram("queued \(i)")) }
        usleep(20_000)
        let started = ContinuousClock.now
        #expect(try DatagramIO.receive(socket: client, into: batch, relay: relayEndpoint, gathering: .seconds(30)) == 3)
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(payloads(batch) == ["queued 0", "queued 1", "queued 2"])

        let sending = relaySendsFromAnotherThread([datagram("later")], after: .milliseconds(150))
        defer { sending.wait() }
        #expect(
            try DatagramIO.receive(socket: client, into: batch, relay: relayEndpoint, gathering: .milliseconds(1)) == 1
        )
        #expect(payloads(batch) == ["later"])
    }

    /// What the pause is for: datagrams that trickle in while it lasts come back from one receive.
    /// The five start 300 ms from now, after the receive has found the queue empty and paused (a
    /// datagram already queued would end it at once, by design), and take 40 ms; the pause is 3 s.
    @Test func datagramsArrivingDuringThePauseComeBackTogether() throws {
        defer { closeSockets() }
        TestSockets.setReceiveTimeout(client, milliseconds: 5000)
        let batch = ReceiveBatch(capacity: 8, payloadCapacity: 64)
        let trickled = (0..<5).map { "trickled \($0)" }
        let sending = relaySendsFromAnotherThread(
            trickled.map { datagram($0) },
            after: .milliseconds(300),
            spacedBy: .milliseconds(10)
        )
        defer { sending.wait() }
        #expect(try DatagramIO.receive(socket: client, into: batch, relay: relayEndpoint, gathering: .seconds(3)) == 5)
        #expect(payloads(batch) == trickled)
    }

    @Test func aBatchSendPutsTheHeaderInFrontOfEachPayloadAcrossSeveralCalls() throws {
        defer { closeSockets() }
        TestSockets.setReceiveTimeout(relay, milliseconds: 2000)
        // 150 datagrams: more than one sendmmsg takes (64), and an empty payload among them.
        let payloads = (0..<150).map { $0 == 70 ? [UInt8]() : Array("payload \($0)".utf8) }
        let buffers = payloads.map { UnsafeMutableRawBufferPointer.allocate(byteCount: $0.count, alignment: 1) }
        defer { for b in buffers { b.deallocate() } }
        for (buffer, payload) in zip(buffers, payloads) { buffer.copyBytes(from: payload) }
        let sent = try DatagramIO.send(
            socket: client,
            payloads: buffers.map { UnsafeRawBufferPointer($0) },
            to: .ip(IPEndpoint("[2001:db8::1]:7")!),
            relay: relayEndpoint
        )
        #expect(sent == 150)
        let header: [UInt8] = [0, 0, 0, 4, 0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1, 0, 7]
        var buffer = [UInt8](repeating: 0, count: 200)
        var arrived: [[UInt8]] = []
        for _ in 0..<150 {
            let n = recv(relay, &buffer, buffer.count, 0)
            guard n >= 0 else { break }
            arrived.append(Array(buffer[0..<n]))
        }
        #expect(arrived == payloads.map { header + $0 })
    }

    @Test func aBatchWithOnePayloadOverTheMaximumSendsNothing() throws {
        defer { closeSockets() }
        let small = UnsafeMutableRawBufferPointer.allocate(byteCount: 10, alignment: 1)
        let big = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_507 - 10 + 1, alignment: 1)
        defer {
            small.deallocate()
            big.deallocate()
        }
        #expect {
            try DatagramIO.send(
                socket: client,
                payloads: [UnsafeRawBufferPointer(small), UnsafeRawBufferPointer(big)],
                to: .ip(IPEndpoint("127.0.0.1:9")!),
                relay: relayEndpoint
            )
        } throws: { ($0 as! SOCKS5Error).systemError == EMSGSIZE }
        usleep(20_000)
        var buffer = [UInt8](repeating: 0, count: 64)
        #expect(recv(relay, &buffer, buffer.count, Int32(MSG_DONTWAIT)) == -1)
    }

    /// The batch owns its storage, so once it is made, a send and a receive of 16 datagrams
    /// allocate nothing.
    @Test(.enabled(if: allocation_counter_available() == 1, "the sanitizers own malloc"))
    func batchSendAndReceiveDoNotAllocate() throws {
        defer { closeSockets() }
        let batch = ReceiveBatch(capacity: 16, payloadCapacity: 2048)
        let payload = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
        defer { payload.deallocate() }
        let outgoing = [UnsafeRawBufferPointer](repeating: UnsafeRawBufferPointer(payload), count: 16)
        let target = SOCKSAddress.ip(IPEndpoint("127.0.0.1:9999")!)
        let relayAt = relayEndpoint
        let reply = datagram("echo")
        func round() throws -> Int {
            try DatagramIO.send(socket: client, payloads: outgoing, to: target, relay: relayAt)
            for _ in 0..<16 { relaySends(reply) }
            var taken = 0
            while taken < 16 { taken += try DatagramIO.receive(socket: client, into: batch, relay: relayAt) }
            return taken
        }
        // A first round makes the runtime's type metadata, once per process.
        _ = try round()
        var drain = [UInt8](repeating: 0, count: 256)
        while recv(relay, &drain, drain.count, Int32(MSG_DONTWAIT)) >= 0 {}
        allocation_counter_start()
        var received = 0
        for _ in 0..<50 { received += try round() }
        let allocations = allocation_counter_stop()
        #expect(received == 50 * 16)
        #expect(allocations == 0)
    }

    /// Through a real relay: 32 datagrams out with one call, every echo back through batches.
    @Test(
        .tags(.peers),
        .needsPeers,
        arguments: [(AddressFamily.ipv4, nil), (.ipv4, Duration.milliseconds(1)), (.ipv6, .milliseconds(1))]
    )
    func aBatchRoundTripsThroughDante(family: AddressFamily, gathering: Duration?) throws {
        defer { closeSockets() }
        let peers = try TestPeers.shared()
        let association = try UDPAssociation.open(server: peers.server(family))
        TestSockets.setReceiveTimeout(association.dataSocket, milliseconds: 3000)
        let payloads = (0..<32).map { Array("batched datagram \($0)".utf8) }
        let buffers = payloads.map { p in
            let b = UnsafeMutableRawBufferPointer.allocate(byteCount: p.count, alignment: 1)
            b.copyBytes(from: p)
            return UnsafeRawBufferPointer(b)
        }
        defer { for b in buffers { b.deallocate() } }
        let target = peers.echo.endpoint(family)
        #expect(try association.send(buffers, to: .ip(target)) == 32)
        let batch = ReceiveBatch()
        var echoed: [[UInt8]] = []
        var senders: Set<SOCKSAddress> = []
        while echoed.count < 32 {
            guard (try? association.receive(into: batch, gathering: gathering)) != nil else { break }
            for i in 0..<batch.count {
                echoed.append(Array(batch.payload(i)))
                senders.insert(batch[i].sender)
            }
        }
        #expect(
            echoed.sorted { $0.lexicographicallyPrecedes($1) } == payloads.sorted { $0.lexicographicallyPrecedes($1) }
        )
        #expect(senders == [.ip(target)])
    }
}
