import NIOConcurrencyHelpers
import PcapNG
import Socks5

/// The relay's side of one client's connection, for `serve --pcap`: its control connection as
/// the relay saw it and, for an association, the datagrams between the client and the relay's
/// client-facing socket (wire view) and between the relay's outbound sockets and the targets
/// (inner view). Confined to the connection's event loop, like the handler that owns it.
final class RelayCapture {
    private var recorder: AssociationCapture
    private let sink: any CaptureSink
    private let key: String
    private let label: String
    private let serverPort: UInt16

    init(sink: any CaptureSink, key: String, client: IPEndpoint, server: IPEndpoint) {
        self.sink = sink
        self.key = key
        label = "relay \(server) for client \(client)"
        serverPort = server.port
        recorder = AssociationCapture(label: label)
    }

    func record(_ body: (inout AssociationCapture, UInt64) -> [CapturedPacket]) {
        let packets = body(&recorder, CaptureClock.now())
        sink.write(packets, of: key, label: label, serverPort: serverPort)
    }

}

/// Makes each connection's `RelayCapture`, numbering them for their interfaces' names: `r1`, `r2`,
/// … (`r2.1` when a second relay writes the same file).
struct RelayCaptures: Sendable {
    let sink: any CaptureSink
    private let producer: Int
    private let counter = NIOLockedValueBox(0)

    init(sink: any CaptureSink) {
        self.sink = sink
        producer = sink.registerProducer()
    }

    func make(client: IPEndpoint, server: IPEndpoint) -> RelayCapture {
        let n = counter.withLockedValue {
            $0 += 1
            return $0
        }
        let key = producer == 1 ? "r\(n)" : "r\(producer).\(n)"
        return RelayCapture(sink: sink, key: key, client: client, server: server)
    }
}
