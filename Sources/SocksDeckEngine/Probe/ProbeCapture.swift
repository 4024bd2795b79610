import Foundation
import NIOConcurrencyHelpers
import PcapNG
import Socks5

/// `probe --pcap`: the probe's own connections and datagrams in the capture file. The probe runs
/// the blocking library on a thread of its own; each of its control connections (the method
/// offers, the associations, CONNECT, BIND) becomes a stream of its own in the file (`p1`, `p2`,
/// …), fed by the library's `HandshakeTrace`, and the datagrams of an association go with it.
public final class ProbeCapture: Sendable {
    /// One control connection of the probe and, for an association, its datagrams.
    public final class Stream: @unchecked Sendable {
        private let lock = NSLock()
        private var recorder: AssociationCapture
        private let sink: any CaptureSink
        private let key: String
        private let label: String
        private let serverPort: UInt16
        private var local: IPEndpoint?
        /// Reads not yet written: the library reads a reply in pieces (its header, then the
        /// rest), which the server sent as one; they become one segment at the next other event.
        private var unwrittenReads: (bytes: [UInt8], time: UInt64)?

        init(sink: any CaptureSink, key: String, label: String, serverPort: UInt16) {
            self.sink = sink
            self.key = key
            self.label = label
            self.serverPort = serverPort
            recorder = AssociationCapture(label: label)
        }

        private func record(_ body: (inout AssociationCapture, UInt64) -> [CapturedPacket]) {
            lock.withLock {
                var packets: [CapturedPacket] = []
                if let reads = unwrittenReads {
                    unwrittenReads = nil
                    packets += recorder.controlData(fromClient: false, reads.bytes, at: reads.time)
                }
                packets += body(&recorder, CaptureClock.now())
                sink.write(packets, of: key, label: label, serverPort: serverPort)
            }
        }

        /// The library's trace of this connection's handshake.
        public var trace: HandshakeTrace {
            HandshakeTrace(
                connected: { [self] local, remote in connected(local: local, remote: remote) },
                wrote: { [self] bytes in record { $0.controlData(fromClient: true, bytes, at: $1) } },
                read: { [self] bytes in read(bytes) }
            )
        }

        public func connected(local: IPEndpoint, remote: IPEndpoint) {
            lock.withLock { self.local = local }
            record { $0.controlOpened(client: local, server: remote, at: $1) }
        }

        /// Writes reads still held (the probe calls it when a library call returns).
        public func flush() { record { _, _ in [] } }

        public func wrote(_ bytes: [UInt8]) { record { $0.controlData(fromClient: true, bytes, at: $1) } }
        public func read(_ bytes: [UInt8]) {
            lock.withLock {
                if unwrittenReads == nil { unwrittenReads = ([], CaptureClock.now()) }
                unwrittenReads!.bytes += bytes
            }
        }
        public func closed(_ why: String) { record { $0.controlClosed(byClient: true, at: $1, comment: why) } }

        /// A datagram the probe sent from `dataSocket` through `relay` to `target`.
        public func sent(
            _ datagram: [UInt8],
            headerLength: Int,
            from dataSocket: IPEndpoint,
            relay: IPEndpoint,
            target: IPEndpoint,
            comment: String? = nil
        ) {
            let likely = lock.withLock { local }
            record {
                $0.clientSent(
                    datagram,
                    headerLength: headerLength,
                    to: .ip(target),
                    relay: relay,
                    dataSocket: dataSocket,
                    likely: likely,
                    at: $1,
                    comment: comment
                )
            }
        }

        /// A datagram the library accepted from the relay. Its header is written as the library
        /// parsed it (the library hands over the sender and the payload, not the raw bytes): the
        /// same bytes for any header it accepts, but for a non-zero RSV, which it ignores.
        public func received(_ payload: [UInt8], sender: SOCKSAddress, at dataSocket: IPEndpoint, relay: IPEndpoint) {
            let header = UDPDatagramHeader(address: sender)
            var datagram = [UInt8](repeating: 0, count: header.encodedLength)
            datagram.withUnsafeMutableBytes { _ = header.write(into: $0) }
            datagram += payload
            let likely = lock.withLock { local }
            record {
                $0.clientReceived(
                    datagram,
                    from: relay,
                    dataSocket: dataSocket,
                    likely: likely,
                    delivered: (sender, header.encodedLength),
                    at: $1
                )
            }
        }

        /// A datagram the library dropped (its bytes are not handed over): a comment on the next packet.
        public func dropped(_ reason: DatagramDropReason) {
            lock.withLock { recorder.note("the library dropped a datagram from the relay: \(reason)") }
        }
    }

    private let sink: any CaptureSink
    private let producer: Int
    private let streams = NIOLockedValueBox(0)

    public init(sink: any CaptureSink) {
        self.sink = sink
        producer = sink.registerProducer()
    }

    /// A new stream for the probe's next connection, described as `what` ("offer 05 01 00").
    public func stream(_ what: String, server: ServerDefinition) -> Stream {
        let n = streams.withLockedValue {
            $0 += 1
            return $0
        }
        let key = producer == 1 ? "p\(n)" : "p\(producer).\(n)"
        return Stream(
            sink: sink,
            key: key,
            label: "probe of \(server.name) (\(server.address)): \(what)",
            serverPort: server.port
        )
    }
}
