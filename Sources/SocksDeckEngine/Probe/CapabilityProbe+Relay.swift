import Foundation
import Socks5

#if canImport(Glibc)
import Glibc
#endif

/// The relay checks: what the data plane does with datagrams, learnt through the echo target.
extension CapabilityProbe {
    // MARK: - The relay

    /// What came back for one datagram sent to the echo target.
    enum Echo: Equatable {
        case whole
        /// A reply with the datagram's first bytes, shorter than it: the relay cut it.
        case cut(to: Int)
        case nothing
    }

    func relayChecks(_ association: Association, echo: IPEndpoint, into findings: FindingLog) {
        let relay = association.relay
        let first = association.data
        let (second, _) = (try? DataSocket.open()) ?? (-1, IPEndpoint(.unspecified(.ipv6), port: 0))
        setTimeout(second)
        defer { close(second) }

        // Round trip and RTT, from the data socket whose port the request declared.
        var rtts: [Double] = []
        for i in 0..<5 {
            let started = Date()
            if roundTrip(
                first,
                relay: relay,
                echo: echo,
                stream: association.stream,
                payload: Array("socksdeck probe \(i)".utf8)
            ) == .whole {
                rtts.append(Date().timeIntervalSince(started) * 1000)
            }
        }
        let zero = declaredZeroCheck(association, echo: echo, relayedWithDeclaration: !rtts.isEmpty)
        guard !rtts.isEmpty else {
            findings.append(
                ProbeFinding(
                    key: "relay_echo",
                    title: "datagrams relayed to the echo target",
                    verdict: .no,
                    value: "nothing came back",
                    evidence: "5 datagrams to \(echo) through \(association.rendezvous.asUsed) "
                        + "from the port declared in \(association.declared), none answered within "
                        + "\(stepTimeoutMilliseconds) ms"
                )
            )
            findings.append(zero)
            return
        }
        rtts.sort()
        findings.append(
            ProbeFinding(
                key: "relay_echo",
                title: "datagrams relayed to the echo target",
                verdict: .yes,
                value: String(
                    format: "%d/5 echoed, RTT min %.2f ms, median %.2f ms",
                    rtts.count,
                    rtts[0],
                    rtts[rtts.count / 2]
                ),
                evidence: "through \(association.rendezvous.asUsed) to \(echo), "
                    + "declared \(association.declared)"
            )
        )
        findings.append(zero)

        // A second source on the same host.
        let fromSecond =
            roundTrip(
                second,
                relay: relay,
                echo: echo,
                stream: association.stream,
                payload: Array("second source".utf8)
            ) != .nothing
        findings.append(
            ProbeFinding(
                key: "source_port_locking",
                title: "locks the association to the first source port",
                verdict: fromSecond ? .no : .yes,
                value: fromSecond ? "no: a second source port is relayed" : "yes: a second source port is not relayed",
                evidence:
                    "after datagrams from port \(localPort(first)), one from port \(localPort(second)) "
                    + "\(fromSecond ? "came back" : "got no echo")"
            )
        )

        // FRAG != 0.
        let fragment = roundTrip(
            first,
            relay: relay,
            echo: echo,
            stream: association.stream,
            payload: Array("fragment".utf8),
            fragment: 1
        )
        let fragmentEchoed = fragment != .nothing
        findings.append(
            ProbeFinding(
                key: "frag_dropped",
                title: "drops fragments (FRAG ≠ 0)",
                verdict: fragmentEchoed ? .no : .yes,
                value: fragmentEchoed ? "no: a FRAG 1 datagram was relayed" : "yes",
                evidence: "a datagram with FRAG 01 \(fragmentEchoed ? "came back" : "got no echo")"
            )
        )

        findings += payloadChecks(first, relay: relay, echo: echo, stream: association.stream)

        // Does the relay outlive its control connection?
        shutdown(association.control, Int32(SHUT_RDWR))
        association.stream?.closed("the probe closed it, to see whether the relay outlives it")
        usleep(300_000)
        let survives =
            roundTrip(first, relay: relay, echo: echo, stream: association.stream, payload: Array("after close".utf8))
            != .nothing
        findings.append(
            ProbeFinding(
                key: "relay_dies_with_control",
                title: "the relay ends with the control connection",
                verdict: survives ? .no : .yes,
                value: survives ? "no: it still relays after the control connection closed" : "yes",
                evidence:
                    "300 ms after closing the control connection a datagram "
                    + "\(survives ? "was still echoed" : "got no echo")"
            )
        )
    }

    /// Whether replies come back with the all-zero declaration, judged by datagrams, never by the
    /// REP byte: hpsockd accepts 0.0.0.0:0 and then sends the replies nowhere.
    func declaredZeroCheck(
        _ main: Association,
        echo: IPEndpoint,
        relayedWithDeclaration: Bool
    ) -> ProbeFinding {
        let key = "declared_zero_relayed"
        let title = "relays with the all-zero DST (0.0.0.0:0)"
        if main.declared == .unspecified(main.declared.endpoint?.family ?? .ipv4) {
            return ProbeFinding(
                key: key,
                title: title,
                verdict: relayedWithDeclaration ? .yes : .no,
                value: relayedWithDeclaration ? "yes" : "no: nothing came back",
                evidence: "the association above declared \(main.declared)"
            )
        }
        guard let zero = try? open(family: main.rendezvous.asUsed.family, declare: .zero) else {
            return ProbeFinding(
                key: key,
                title: title,
                verdict: .no,
                value: "refused",
                evidence: "UDP ASSOCIATE declaring all zeros failed where \(main.declared) succeeded"
            )
        }
        var echoed = 0
        for i in 0..<3 {
            let result = roundTrip(
                zero.data,
                relay: zero.relay,
                echo: echo,
                stream: zero.stream,
                payload: Array("zero \(i)".utf8)
            )
            if result != .nothing { echoed += 1 }
        }
        let evidence =
            "declaring \(zero.declared): \(echoed)/3 echoed; declaring \(main.declared): "
            + (relayedWithDeclaration ? "echoed" : "nothing came back either")
        if echoed > 0 { return ProbeFinding(key: key, title: title, verdict: .yes, value: "yes", evidence: evidence) }
        return ProbeFinding(
            key: key,
            title: title,
            verdict: .no,
            value: relayedWithDeclaration
                ? "no: replies go only to the declared address (declare the data socket's port)"
                : "no: nothing came back",
            evidence: evidence
        )
    }

    /// The largest payload relayed whole, and whether larger ones are cut or lost: a relay with
    /// a fixed buffer (v2ray: 2,048 bytes) returns the first bytes of every larger datagram.
    func payloadChecks(
        _ fd: Int32,
        relay: IPEndpoint,
        echo: IPEndpoint,
        stream: ProbeCapture.Stream?
    )
        -> [ProbeFinding]
    {
        var low = 0
        var high = largestPayloadTried
        var cutTo: Int?
        var cutSizes: [Int] = []
        func tryPayload(_ size: Int) -> Bool {
            let result = roundTrip(fd, relay: relay, echo: echo, stream: stream, payload: Self.pattern(size))
            if case .cut(let n) = result {
                cutTo = n
                cutSizes.append(size)
            }
            return result == .whole
        }
        if tryPayload(high) {
            low = high
        } else {
            // A cut reply tells where the cut is: check there first, then search as for loss.
            if let n = cutTo, n < high, tryPayload(n) {
                low = n
                high = n + 1
                _ = tryPayload(n + 1)
            }
            while high - low > 1 {
                let mid = (low + high) / 2
                if tryPayload(mid) { low = mid } else { high = mid }
            }
        }
        var findings = [
            ProbeFinding(
                key: "largest_payload",
                title: "largest payload relayed whole",
                verdict: .info,
                value: low == largestPayloadTried ? "\(low) bytes or more" : "\(low) bytes",
                evidence: low == largestPayloadTried
                    ? "\(low) bytes came back whole"
                    : "\(low) bytes came back whole, \(low + 1) "
                        + "\(cutTo == nil ? "did not come back" : "came back cut")",
                figure: low
            )
        ]
        if let n = cutTo {
            findings.append(
                ProbeFinding(
                    key: "truncation",
                    title: "cuts larger datagrams",
                    verdict: .yes,
                    value: "truncates datagrams to \(n) bytes",
                    evidence: "sent \(cutSizes.sorted().map(String.init).joined(separator: ", ")) bytes: "
                        + "each came back as its first \(n) bytes",
                    figure: n
                )
            )
        } else if low < largestPayloadTried {
            findings.append(
                ProbeFinding(
                    key: "truncation",
                    title: "cuts larger datagrams",
                    verdict: .no,
                    value: "no: larger datagrams are lost, not cut",
                    evidence: "\(low + 1) bytes and more: no reply at all"
                )
            )
        }
        return findings
    }

    /// A payload whose bytes tell their offset, so that a cut reply is recognised as a prefix.
    static func pattern(_ size: Int) -> [UInt8] { (0..<size).map { UInt8(truncatingIfNeeded: $0 % 251) } }

    func setTimeout(_ fd: Int32) {
        var tv = timeval(
            tv_sec: Int(stepTimeoutMilliseconds / 1000),
            tv_usec: Int(stepTimeoutMilliseconds % 1000) * 1000
        )
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    func localPort(_ fd: Int32) -> UInt16 { IPEndpoint.local(of: fd)?.port ?? 0 }

    /// Sends one datagram through the relay and waits for its echo: whole, cut (a shorter reply
    /// that is the datagram's beginning), or nothing. Replies to earlier datagrams are skipped.
    func roundTrip(
        _ fd: Int32,
        relay: IPEndpoint,
        echo: IPEndpoint,
        stream: ProbeCapture.Stream? = nil,
        payload: [UInt8],
        fragment: UInt8 = 0
    ) -> Echo {
        let header = UDPDatagramHeader(fragment: fragment, address: .ip(echo))
        var datagram = [UInt8](repeating: 0, count: header.encodedLength)
        datagram.withUnsafeMutableBytes { _ = header.write(into: $0) }
        datagram += payload
        guard datagram.count <= UDPLimits.maximumPayload(relay.family) else { return .nothing }
        guard relay.withSockaddr({ sendto(fd, datagram, datagram.count, 0, $0, $1) }) >= 0 else { return .nothing }
        let dataSocket = stream == nil ? nil : IPEndpoint.local(of: fd)
        if let stream, let dataSocket {
            stream.sent(
                datagram,
                headerLength: header.encodedLength,
                from: dataSocket,
                relay: relay,
                target: echo,
                comment: fragment == 0 ? nil : "FRAG \(fragment): does the relay drop fragments?"
            )
        }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let deadline = Date().addingTimeInterval(Double(stepTimeoutMilliseconds) / 1000)
        while Date() < deadline {
            let received = buffer.withUnsafeMutableBytes {
                try? DatagramIO.receive(socket: fd, into: $0, relay: relay, dropped: { stream?.dropped($0) })
            }
            guard let received else { return .nothing }
            if let stream, let dataSocket {
                stream.received(
                    Array(buffer[0..<received.length]),
                    sender: received.sender,
                    at: dataSocket,
                    relay: relay
                )
            }
            let n = received.originalLength
            let compared = min(n, 64)
            guard n <= payload.count, buffer.prefix(compared).elementsEqual(payload.prefix(compared)) else { continue }
            if n == payload.count { return .whole }
            // Tiny replies are earlier probes' echoes; a cut is at least a few hundred bytes.
            if n >= 256 { return .cut(to: n) }
        }
        return .nothing
    }
}
