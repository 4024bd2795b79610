import Socks5

/// One synthesised packet of an association's capture, before it is framed into a file: which of
/// the association's two views it belongs to, when it was seen, the IP packet, and a comment.
package struct CapturedPacket: Sendable, Equatable {
    package enum View: Sendable, Equatable {
        /// What crossed the wire: the control connection as TCP and every datagram between the data
        /// socket and the relay, SOCKS5 UDP header included.
        case wire
        /// The payloads as plain UDP between the data socket and the real remote (the header's
        /// address), as if there were no proxy.
        case inner
    }

    package var view: View
    /// Nanoseconds since the Unix epoch.
    package var time: UInt64
    package var packet: [UInt8]
    package var comment: String?

    package init(view: View, time: UInt64, packet: [UInt8], comment: String? = nil) {
        self.view = view
        self.time = time
        self.packet = packet
        self.comment = comment
    }
}

/// One UDP datagram to capture: its two ends and its payload.
package struct UDPFlow: Sendable, Equatable {
    package var from: IPEndpoint
    package var to: IPEndpoint
    package var payload: [UInt8]

    package init(from: IPEndpoint, to: IPEndpoint, payload: [UInt8]) {
        self.from = from
        self.to = to
        self.payload = payload
    }
}

/// Where captured packets go: a file (`CaptureFile`, in the engine), or anything else that frames
/// them. Called from event loops, so it must be safe to call from any thread.
package protocol CaptureSink: AnyObject, Sendable {
    /// `key` names the association's interfaces; `label` describes them; `serverPort`, when not
    /// 1080, is the SOCKS port a reader must be told about.
    func write(_ packets: [CapturedPacket], of key: String, label: String, serverPort: UInt16?)
    /// A number for each producer (engine, relay) writing here, to keep their keys apart.
    func registerProducer() -> Int
}
