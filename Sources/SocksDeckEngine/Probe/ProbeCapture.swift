import Foundation
import NIOConcurrencyHelpers
import PcapNG
import Socks5
import Synchronization

/// `probe --pcap`: the probe's own connections and datagrams in the capture file. Each of the
/// probe's control connections (the method offers, the associations, CONNECT, BIND) becomes a
/// stream of its own in the file (`p1`, `p2`, …), fed by what its channel handler saw, and the
/// datagrams of an association go with it.
package final class ProbeCapture: Sendable {
    /// One control connection of the probe and, for an association, its datagrams.
    package final class Stream: Sendable {
        /// The channel's loop and the probe's task both record.
        private let state: Mutex<(recorder: AssociationCapture, local: IPEndpoint?)>
        private let sink: any CaptureSink
        private let key: String
        private let label: String
        private let serverPort: UInt16

        init(sink: any CaptureSink, key: String, label: String, serverPort: UInt16) {
            self.sink = sink
            self.key = key
            self.label = label
            self.serverPort = serverPort
            state = Mutex((AssociationCapture(label: label), nil))
        }

        private func record(_ body: (inout AssociationCapture, UInt64) -> [CapturedPacket]) {
            state.withLock {
                let packets = body(&$0.recorder, CaptureClock.now())
                sink.write(packets, of: key, label: label, serverPort: serverPort)
            }
        }

        /// What a control connection's handler saw. Its end is not taken from there: the probe
        /// ends every connection itself, and says why with `closed(_:)`.
        func observe(_ traffic: ControlTraffic) {
            switch traffic {
            case .opened(let local, let remote): connected(local: local, remote: remote)
            case .sent(let bytes): wrote(bytes)
            case .received(let bytes, let meaning):
                record { $0.controlData(fromClient: false, bytes, at: $1, comment: meaning) }
            case .ended: break
            }
        }

        package func connected(local: IPEndpoint, remote: IPEndpoint) {
            state.withLock { $0.local = local }
            record { $0.controlOpened(client: local, server: remote, at: $1) }
        }

        package func wrote(_ bytes: [UInt8]) { record { $0.controlData(fromClient: true, bytes, at: $1) } }
        package func read(_ bytes: [UInt8]) { record { $0.controlData(fromClient: false, bytes, at: $1) } }
        package func closed(_ why: String) { record { $0.controlClosed(byClient: true, at: $1, comment: why) } }

        /// A datagram the probe sent from `dataSocket` through `relay` to `target`.
        package func sent(
            _ datagram: [UInt8],
            headerLength: Int,
            from dataSocket: IPEndpoint,
            relay: IPEndpoint,
            target: IPEndpoint,
            comment: String? = nil
        ) {
            let likely = state.withLock { $0.local }
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

        /// A datagram that reached `dataSocket`, as it came: delivered (the header's sender and
        /// where its payload starts) or dropped by the datagram policy (why, in the comment).
        package func received(
            _ datagram: [UInt8],
            from source: IPEndpoint,
            at dataSocket: IPEndpoint,
            delivered: (sender: SOCKSAddress, payloadOffset: Int)?,
            dropped: DatagramDropReason?
        ) {
            let likely = state.withLock { $0.local }
            record {
                $0.clientReceived(
                    datagram,
                    from: source,
                    dataSocket: dataSocket,
                    likely: likely,
                    delivered: delivered,
                    at: $1,
                    comment: dropped.map { "dropped by SocksDeck: \($0)" }
                )
            }
        }
    }

    private let sink: any CaptureSink
    private let producer: Int
    private let streams = NIOLockedValueBox(0)

    package init(sink: any CaptureSink) {
        self.sink = sink
        producer = sink.registerProducer()
    }

    /// A new stream for the probe's next connection, described as `what` ("offer 05 01 00").
    package func stream(_ what: String, server: ServerDefinition) -> Stream {
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
