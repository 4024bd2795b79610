import Foundation
import NIOConcurrencyHelpers
import PcapNG
import Socks5
import Synchronization

/// `probe --pcap`: the probe's own connections in the capture file. Each of its method offers and
/// commands (CONNECT, BIND, UDP ASSOCIATE of the other family) becomes a stream of its own in the
/// file (`p1`, `p2`, …), fed by what its channel handler saw. Its associations are the engine's,
/// which the engine captures as it captures every association.
package final class ProbeCapture: Sendable {
    /// One connection of the probe.
    package final class Stream: Sendable {
        /// The channel's loop and the probe's task both record.
        private let recorder: Mutex<AssociationCapture>
        private let sink: any CaptureSink
        private let key: String
        private let label: String
        private let serverPort: UInt16

        init(sink: any CaptureSink, key: String, label: String, serverPort: UInt16) {
            self.sink = sink
            self.key = key
            self.label = label
            self.serverPort = serverPort
            recorder = Mutex(AssociationCapture(label: label))
        }

        private func record(_ body: (inout AssociationCapture, UInt64) -> [CapturedPacket]) {
            recorder.withLock {
                let packets = body(&$0, CaptureClock.now())
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
            record { $0.controlOpened(client: local, server: remote, at: $1) }
        }

        package func wrote(_ bytes: [UInt8]) { record { $0.controlData(fromClient: true, bytes, at: $1) } }
        package func read(_ bytes: [UInt8]) { record { $0.controlData(fromClient: false, bytes, at: $1) } }
        package func closed(_ why: String) { record { $0.controlClosed(byClient: true, at: $1, comment: why) } }
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
