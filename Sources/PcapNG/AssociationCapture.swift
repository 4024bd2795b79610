import Socks5

/// The capture of one association, sans-I/O: what SocksDeck saw at its sockets goes in, the IP
/// packets a capture reader expects come out. The control connection becomes a TCP stream with
/// a handshake, consistent sequence numbers and a close, so that Wireshark's SOCKS dissector
/// follows it; the client's password is masked on the way in (`PasswordRedaction`).
///
/// The engine (client side) and the relay (`serve --pcap`, server side) both feed it, each with
/// the endpoints it knows; `pcapng` frames the packets into a file.
package struct AssociationCapture: Sendable {
    /// Names the association in the file's interface descriptions: "#3 via dante (127.0.0.1:1080)".
    package let label: String
    private var client: IPEndpoint?
    private var server: IPEndpoint?
    /// The next sequence number each side sends (their initial ones are fixed: a capture reader
    /// shows relative numbers, and fixed ones make two captures of one session comparable).
    private var clientNext: UInt32 = 1_000
    private var serverNext: UInt32 = 5_000
    private var closed = false
    private var redaction = PasswordRedaction()
    /// Engine events waiting for the association's next packet, which carries them as a comment.
    private var pendingNotes: [String] = []

    package init(label: String) { self.label = label }

    /// Whether a password was masked in what was captured (the file's comment says so).
    package var maskedPassword: Bool { redaction.maskedBytes > 0 }

    /// Attaches `text` to the association's next packet: events that have no packet of their own
    /// (a substituted rendezvous, a probe started) are read in order with the traffic.
    package mutating func note(_ text: String) { pendingNotes.append(text) }

    /// The control connection is up: SYN, SYN-ACK, ACK.
    package mutating func controlOpened(client: IPEndpoint, server: IPEndpoint, at time: UInt64) -> [CapturedPacket] {
        let (c, s) = IPPacket.oneFamily(Self.plain(client), Self.plain(server))
        self.client = c
        self.server = s
        let syn = tcp(fromClient: true, flags: [.syn], payload: [], at: time)
        clientNext &+= 1
        let synAck = tcp(fromClient: false, flags: [.syn, .ack], payload: [], at: time)
        serverNext &+= 1
        let ack = tcp(fromClient: true, flags: [.ack], payload: [], at: time)
        return [syn, synAck, ack].map { attachingNotes($0) }
    }

    /// Bytes on the control connection, in the order they were written or read.
    package mutating func controlData(
        fromClient: Bool,
        _ bytes: [UInt8],
        at time: UInt64,
        comment: String? = nil
    )
        -> [CapturedPacket]
    {
        guard client != nil, !closed, !bytes.isEmpty else { return [] }
        let payload = fromClient ? redaction.redact(bytes) : bytes
        var packets: [CapturedPacket] = []
        // One segment per 1,400 bytes: a reader reassembles them as it would real ones.
        var start = 0
        while start < payload.count {
            let end = min(start + 1_400, payload.count)
            var packet = tcp(
                fromClient: fromClient,
                flags: [.psh, .ack],
                payload: Array(payload[start..<end]),
                at: time
            )
            if end == payload.count, let comment { packet.comment = comment }
            packets.append(attachingNotes(packet))
            if fromClient { clientNext &+= UInt32(end - start) } else { serverNext &+= UInt32(end - start) }
            start = end
        }
        return packets
    }

    /// The control connection ended: FIN from the side that closed, the other's FIN, the last ACK;
    /// `comment` (why it closed) rides on the first FIN.
    package mutating func controlClosed(byClient: Bool, at time: UInt64, comment: String?) -> [CapturedPacket] {
        guard client != nil, !closed else { return [] }
        closed = true
        var first = tcp(fromClient: byClient, flags: [.fin, .ack], payload: [], at: time)
        first.comment = comment
        advance(byClient)
        let second = tcp(fromClient: !byClient, flags: [.fin, .ack], payload: [], at: time)
        advance(!byClient)
        let last = tcp(fromClient: byClient, flags: [.ack], payload: [], at: time)
        return [first, second, last].map { attachingNotes($0) }
    }

    /// A datagram: on the wire (between the data socket and the relay, header included) and, when
    /// it carried a payload to or from a known remote, in the inner view. `comment` (a drop and
    /// why, say) rides on the first of them.
    package mutating func datagram(
        wire: UDPFlow?,
        inner: UDPFlow?,
        at time: UInt64,
        comment: String? = nil
    )
        -> [CapturedPacket]
    {
        var packets: [CapturedPacket] = []
        if let wire {
            let packet = IPPacket.udp(from: Self.plain(wire.from), to: Self.plain(wire.to), payload: wire.payload)
            packets.append(attachingNotes(CapturedPacket(view: .wire, time: time, packet: packet, comment: comment)))
        }
        if let inner {
            let packet = IPPacket.udp(from: Self.plain(inner.from), to: Self.plain(inner.to), payload: inner.payload)
            let first = packets.isEmpty
            packets.append(CapturedPacket(view: .inner, time: time, packet: packet, comment: first ? comment : nil))
        }
        return packets
    }

    /// An IPv4-mapped address as the IPv4 address it is: a dual-stack socket's view of an IPv4
    /// peer is written as that peer, so that both ends of a packet are IPv4 and a reader's
    /// conversations (the SOCKS dissector's UDP association) match the control connection's.
    static func plain(_ e: IPEndpoint) -> IPEndpoint { IPEndpoint(e.address.unmapped, port: e.port) }

    /// A client's datagram through the relay, as sent from its data socket (bound to `dataSocket`,
    /// its source address inferred from `likely`: see `CaptureEndpoints`): on the wire whole, and
    /// its payload (after `headerLength`) in the inner view, to `target`.
    package mutating func clientSent(
        _ datagram: [UInt8],
        headerLength: Int,
        to target: SOCKSAddress,
        relay: IPEndpoint,
        dataSocket: IPEndpoint,
        likely: IPEndpoint?,
        at time: UInt64,
        comment: String? = nil
    ) -> [CapturedPacket] {
        let remote = CaptureEndpoints.endpoint(target, family: relay.family)
        let wire = UDPFlow(
            from: CaptureEndpoints.local(bound: dataSocket, likely: likely, facing: relay),
            to: relay,
            payload: datagram
        )
        let inner = UDPFlow(
            from: CaptureEndpoints.local(bound: dataSocket, likely: likely, facing: remote),
            to: remote,
            payload: Array(datagram[min(headerLength, datagram.count)...])
        )
        var comments = [comment].compactMap { $0 }
        if case .domain = target { comments.append("to \(target) (a name: written as \(remote.address))") }
        return self.datagram(
            wire: wire,
            inner: inner,
            at: time,
            comment: comments.isEmpty ? nil : comments.joined(separator: "; ")
        )
    }

    /// A datagram that reached a client's data socket from `source`: on the wire whole and, when
    /// it was delivered, its payload in the inner view from the header's sender. `comment` says
    /// why a dropped one was.
    package mutating func clientReceived(
        _ datagram: [UInt8],
        from source: IPEndpoint,
        dataSocket: IPEndpoint,
        likely: IPEndpoint?,
        delivered: (sender: SOCKSAddress, payloadOffset: Int)?,
        at time: UInt64,
        comment: String? = nil
    ) -> [CapturedPacket] {
        let wire = UDPFlow(
            from: source,
            to: CaptureEndpoints.local(bound: dataSocket, likely: likely, facing: source),
            payload: datagram
        )
        var inner: UDPFlow?
        if let delivered {
            let remote = CaptureEndpoints.endpoint(delivered.sender, family: source.address.unmapped.family)
            inner = UDPFlow(
                from: remote,
                to: CaptureEndpoints.local(bound: dataSocket, likely: likely, facing: remote),
                payload: Array(datagram[min(delivered.payloadOffset, datagram.count)...])
            )
        }
        return self.datagram(wire: wire, inner: inner, at: time, comment: comment)
    }

    private mutating func advance(_ fromClient: Bool) {
        if fromClient { clientNext &+= 1 } else { serverNext &+= 1 }
    }

    private func tcp(fromClient: Bool, flags: IPPacket.TCPFlags, payload: [UInt8], at time: UInt64) -> CapturedPacket {
        let (source, destination) = fromClient ? (client!, server!) : (server!, client!)
        let packet = IPPacket.tcp(
            from: source,
            to: destination,
            sequence: fromClient ? clientNext : serverNext,
            acknowledgment: fromClient ? serverNext : clientNext,
            flags: flags,
            payload: payload
        )
        return CapturedPacket(view: .wire, time: time, packet: packet)
    }

    private mutating func attachingNotes(_ packet: CapturedPacket) -> CapturedPacket {
        guard !pendingNotes.isEmpty else { return packet }
        var carrying = packet
        carrying.comment = (pendingNotes + [packet.comment].compactMap { $0 }).joined(separator: "; ")
        pendingNotes.removeAll()
        return carrying
    }
}

/// Where a capture says a socket's datagrams came from when the socket itself cannot tell: the
/// engine's data socket is bound to the unspecified address ([::]:port, dual-stack), and the
/// kernel picks the source per datagram. SocksDeck writes the control connection's local address
/// when it is of the peer's family (the same route, so the same source), else the unspecified
/// address of the peer's family; the interface description says so.
package enum CaptureEndpoints {
    package static func local(bound: IPEndpoint, likely: IPEndpoint?, facing peer: IPEndpoint) -> IPEndpoint {
        let peerFamily = peer.address.unmapped.family
        let boundAddress = bound.address.unmapped
        if !boundAddress.isUnspecified, boundAddress.family == peerFamily {
            return IPEndpoint(boundAddress, port: bound.port)
        }
        if let likely, likely.address.unmapped.family == peerFamily, !likely.address.unmapped.isUnspecified {
            return IPEndpoint(likely.address.unmapped, port: bound.port)
        }
        return IPEndpoint(.unspecified(peerFamily), port: bound.port)
    }

    /// A SOCKS address as a capture endpoint: a name has no IP, so it is written as the unspecified
    /// address of `family` (the packet's comment gives the name).
    package static func endpoint(_ address: SOCKSAddress, family: AddressFamily) -> IPEndpoint {
        switch address {
        case .ip(let endpoint): IPEndpoint(endpoint.address.unmapped, port: endpoint.port)
        case .domain(_, let port): IPEndpoint(.unspecified(family), port: port)
        }
    }
}
