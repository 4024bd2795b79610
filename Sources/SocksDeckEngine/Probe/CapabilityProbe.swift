import Foundation
import Socks5

#if canImport(Glibc)
import Glibc
#endif

/// One thing learnt about a server, with the evidence behind it.
public struct ProbeFinding: Sendable, Equatable, Codable {
    public enum Verdict: String, Sendable, Codable { case yes, no, info, skipped }
    /// A stable key for scripts: "udp_associate", "source_port_locking"…
    public var key: String
    public var title: String
    public var verdict: Verdict
    /// The answer in a few words: "REP 7: command not supported", "2739 bytes".
    public var value: String
    /// What was sent and seen.
    public var evidence: String
    /// The finding's number, where it has one (bytes for the payload findings), so that
    /// summaries are made from values, never from the words above.
    public var figure: Int?

    public init(key: String, title: String, verdict: Verdict, value: String, evidence: String, figure: Int? = nil) {
        self.key = key
        self.title = title
        self.verdict = verdict
        self.value = value
        self.evidence = evidence
        self.figure = figure
    }
}

/// The capability and quirk report of `socksdeck probe`: what a SOCKS5 server does with UDP,
/// learnt by trying, with the blocking client library. Bounded: every wait is at most
/// `stepTimeoutMilliseconds`, the payload search at most 17 tries, so a probe ends within about
/// 30 s against the slowest server; it sends a few dozen datagrams, never a flood.
public struct CapabilityProbe: Sendable {
    public var server: ServerDefinition
    public var endpoint: IPEndpoint
    /// A UDP echo target for the relay checks; without one they are skipped.
    public var echo: IPEndpoint?
    public var stepTimeoutMilliseconds: Int32 = 1500
    /// The payload search's upper bound.
    public var largestPayloadTried = 65_000
    /// Where the probe's connections and datagrams are captured (`probe --pcap`); nil: nowhere.
    public var capture: ProbeCapture?

    public init(server: ServerDefinition, endpoint: IPEndpoint, echo: IPEndpoint?) {
        self.server = server
        self.endpoint = endpoint
        self.echo = echo
    }

    var options: SOCKS5Options {
        SOCKS5Options(credentials: server.credentials, timeoutMilliseconds: stepTimeoutMilliseconds)
    }

    /// The options for one connection, traced into its own capture stream when capturing.
    private func options(capturing what: String) -> (SOCKS5Options, ProbeCapture.Stream?) {
        guard let capture else { return (options, nil) }
        let stream = capture.stream(what, server: server)
        var traced = options
        traced.trace = stream.trace
        return (traced, stream)
    }

    /// Runs every check, in order, and returns the findings. `progress` is called with each
    /// finding as soon as it is established (from the probe's thread), for a front end that shows
    /// the work as it goes: the relay checks take up to ~30 s.
    public func run(progress: @escaping (ProbeFinding) -> Void = { _ in }) -> [ProbeFinding] {
        let findings = FindingLog(progress)
        findings += methods()
        let (udp, association) = udpAssociate(family: endpoint.family)
        findings += udp
        findings.append(otherFamily())
        findings.append(command(.connect, to: .ip(endpoint)))
        findings.append(command(.bind, to: .unspecified(endpoint.family)))
        guard let association else {
            findings.append(skipped("relay", "relay behaviour", "no UDP association"))
            return findings.all
        }
        guard let echo else {
            findings.append(skipped("relay", "relay behaviour", "no echo target: give --echo HOST:PORT"))
            return findings.all
        }
        relayChecks(association, echo: echo, into: findings)
        return findings.all
    }

    /// The findings so far, each handed to the progress callback as it is added.
    final class FindingLog {
        private(set) var all: [ProbeFinding] = []
        private let progress: (ProbeFinding) -> Void
        init(_ progress: @escaping (ProbeFinding) -> Void) { self.progress = progress }

        func append(_ finding: ProbeFinding) {
            all.append(finding)
            progress(finding)
        }

        static func += (log: FindingLog, new: [ProbeFinding]) { new.forEach(log.append) }
    }

    // MARK: - Methods

    private func methods() -> [ProbeFinding] {
        func offer(_ methods: [UInt8]) -> String {
            let fd = socket(endpoint.family.rawFamily, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            let greeting = [0x05, UInt8(methods.count)] + methods
            let stream = capture?.stream("method offer \(hexDump(greeting))", server: server)
            defer {
                stream?.closed("the probe closed it: the method offer is answered")
                close(fd)
            }
            setTimeout(fd)
            guard endpoint.withSockaddr({ connect(fd, $0, $1) }) == 0 else {
                return "unreachable (\(ErrorCatalogue.decode(errno: errno).name))"
            }
            if let stream, let local = IPEndpoint.local(of: fd) { stream.connected(local: local, remote: endpoint) }
            _ = send(fd, greeting, greeting.count, Int32(MSG_NOSIGNAL))
            stream?.wrote(greeting)
            var reply = [UInt8](repeating: 0, count: 2)
            let n = recv(fd, &reply, 2, Int32(MSG_WAITALL))
            if n > 0 { stream?.read(Array(reply[0..<n])) }
            guard n == 2 else { return n == 0 ? "closed without a reply" : "no reply" }
            return reply[0] != 5 ? "not SOCKS5 (\(hexDump(reply)))" : hexDump(reply[1...1])
        }
        let none = offer([0x00])
        if none.hasPrefix("unreachable") {
            return [
                ProbeFinding(
                    key: "unreachable",
                    title: "reachable",
                    verdict: .no,
                    value: none,
                    evidence: "TCP connect to \(endpoint)"
                )
            ]
        }
        let userpass = offer([0x02])
        return [
            ProbeFinding(
                key: "method_none",
                title: "accepts no authentication",
                verdict: none == "00" ? .yes : .no,
                value: none == "00" ? "yes" : none == "ff" ? "no (FF)" : none,
                evidence: "greeting 05 01 00 → \(none)"
            ),
            ProbeFinding(
                key: "method_userpass",
                title: "accepts username/password (RFC 1929)",
                verdict: userpass == "02" ? .yes : .no,
                value: userpass == "02" ? "yes" : userpass == "ff" ? "no (FF)" : userpass,
                evidence: "greeting 05 01 02 → \(userpass)"
            ),
        ]
    }

    // MARK: - UDP ASSOCIATE

    /// An association opened by the library's one path (`UDPAssociation.open`: the data socket
    /// first, its port declared by the policy), held by a class so that the checks can share it.
    final class Association {
        let udp: UDPAssociation
        /// Its capture stream, when the probe captures.
        let stream: ProbeCapture.Stream?
        init(_ udp: consuming UDPAssociation, stream: ProbeCapture.Stream?) {
            self.udp = udp
            self.stream = stream
        }
        deinit { stream?.closed("the probe closed it: its checks are done") }
        var control: Int32 { udp.controlSocket }
        var data: Int32 { udp.dataSocket }
        var rendezvous: RendezvousAddress { udp.rendezvous }
        var declared: SOCKSAddress { udp.declaredSource }
        var relay: IPEndpoint { udp.relay }
    }

    private func open(family: AddressFamily, declare: DeclaredSource) throws(SOCKS5Error) -> Association {
        let (options, stream) = options(capturing: "UDP ASSOCIATE (\(family), declaring \(declare))")
        let udp: UDPAssociation
        do {
            udp = try UDPAssociation.open(server: endpoint, family: family, options: options, declare: declare)
            stream?.flush()
        } catch {
            stream?.closed("the probe closed it: \(error.decoded.name)")
            throw error
        }
        let association = Association(udp, stream: stream)
        setTimeout(association.data)
        return association
    }

    private func udpAssociate(family: AddressFamily) -> ([ProbeFinding], Association?) {
        let started = Date()
        do {
            let association = try open(family: family, declare: server.declare)
            let ms = Date().timeIntervalSince(started) * 1000
            let r = association.rendezvous
            return (
                [
                    ProbeFinding(
                        key: "udp_associate",
                        title: "UDP ASSOCIATE",
                        verdict: .yes,
                        value: "rendezvous \(r.asUsed)",
                        evidence: "requested \(family) with DST \(association.declared) over \(endpoint.family): "
                            + "BND \(r.asReceived)"
                    ),
                    Self.boundForm(r, asked: family, socksPort: endpoint.port),
                    ProbeFinding(
                        key: "setup_time",
                        title: "association setup time",
                        verdict: .info,
                        value: String(format: "%.2f ms", ms),
                        evidence: "connect, greeting, \(server.credentials == nil ? "" : "RFC 1929, ")request, reply"
                    ),
                ], association
            )
        } catch {
            let d = error.decoded
            return (
                [
                    ProbeFinding(
                        key: "udp_associate",
                        title: "UDP ASSOCIATE",
                        verdict: .no,
                        value: "\(d.name): \(d.summary)",
                        evidence: error.description
                    )
                ], nil
            )
        }
    }

    /// What the server sent as BND, described apart from what SocksDeck made of it.
    static func boundForm(_ r: RendezvousAddress, asked family: AddressFamily, socksPort: UInt16) -> ProbeFinding {
        var sent: [String] = []
        if let received = r.asReceived.endpoint {
            sent.append("\(received.address.isUnspecified ? "unspecified" : "concrete") \(received.family)")
            if received.family != family { sent.append("not the \(family) asked for") }
        }
        if r.asReceived.port == socksPort { sent.append("the SOCKS port itself") }
        let used = r.replacedUnspecified ? "; SocksDeck sends to \(r.asUsed): \(r.substitutionReason)" : ""
        return ProbeFinding(
            key: "bnd_form",
            title: "BND form",
            verdict: .info,
            value: sent.joined(separator: "; "),
            evidence: "the server sent BND \(r.asReceived) to a control connection to "
                + "\(r.server)\(used)"
        )
    }

    private func otherFamily() -> ProbeFinding {
        let other: AddressFamily = endpoint.family == .ipv4 ? .ipv6 : .ipv4
        let fd = socket(endpoint.family.rawFamily, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        let (options, stream) = options(capturing: "UDP ASSOCIATE asking for \(other)")
        defer {
            stream?.closed("the probe closed it: the reply is all it needed")
            close(fd)
        }
        do {
            defer { stream?.flush() }
            let r = try SOCKS5Client.associateUDP(controlSocket: fd, server: endpoint, family: other, options: options)
            // What the server sent, not what SocksDeck would send to.
            let received = r.receivedFamily
            let asked = received == other
            return ProbeFinding(
                key: "udp_associate_\(other == .ipv6 ? "ipv6" : "ipv4")",
                title: "UDP ASSOCIATE asking for \(other)",
                verdict: asked ? .yes : .info,
                value: "rendezvous \(r.asUsed)"
                    + (asked
                        ? ""
                        : " (the server sent an \(received.map { "\($0)" } ?? "domain") BND, "
                            + "not the \(other) asked for)"),
                evidence:
                    "DST \(SOCKSAddress.unspecified(other)) over an \(endpoint.family) control connection: BND "
                    + "\(r.asReceived)"
            )
        } catch {
            return ProbeFinding(
                key: "udp_associate_\(other == .ipv6 ? "ipv6" : "ipv4")",
                title: "UDP ASSOCIATE asking for \(other)",
                verdict: .no,
                value: error.decoded.name,
                evidence: error.description
            )
        }
    }

    private func command(_ command: Command, to address: SOCKSAddress) -> ProbeFinding {
        let fd = socket(endpoint.family.rawFamily, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        let (options, stream) = options(capturing: "\(command) \(address)")
        defer {
            stream?.closed("the probe closed it: the reply is all it needed")
            close(fd)
        }
        let key = command == .connect ? "connect" : "bind"
        do {
            let reply =
                command == .connect
                ? try SOCKS5Client.connect(controlSocket: fd, server: endpoint, target: address, options: options)
                : try SOCKS5Client.bind(controlSocket: fd, server: endpoint, expectedPeer: address, options: options)
            return ProbeFinding(
                key: key,
                title: "\(command)",
                verdict: .yes,
                value: "succeeded, BND \(reply.boundAddress)",
                evidence: "\(command) \(address) → REP 00"
            )
        } catch {
            // A refusal of the target (REP 2–5) still shows the command is understood.
            let understood = [.notAllowed, .networkUnreachable, .hostUnreachable, .connectionRefused].contains(
                error.code
            )
            return ProbeFinding(
                key: key,
                title: "\(command)",
                verdict: understood ? .info : .no,
                value: understood
                    ? "understood, refused here: \(error.decoded.name)"
                    : "\(error.decoded.name): \(error.decoded.summary)",
                evidence: "\(command) \(address): \(error.description)"
            )
        }
    }

    // MARK: - The relay

    /// What came back for one datagram sent to the echo target.
    enum Echo: Equatable {
        case whole
        /// A reply with the datagram's first bytes, shorter than it: the relay cut it.
        case cut(to: Int)
        case nothing
    }

    private func relayChecks(_ association: Association, echo: IPEndpoint, into findings: FindingLog) {
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
    private func declaredZeroCheck(
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
    private func payloadChecks(
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

    private func setTimeout(_ fd: Int32) {
        var tv = timeval(
            tv_sec: Int(stepTimeoutMilliseconds / 1000),
            tv_usec: Int(stepTimeoutMilliseconds % 1000) * 1000
        )
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    private func localPort(_ fd: Int32) -> UInt16 { IPEndpoint.local(of: fd)?.port ?? 0 }

    /// Sends one datagram through the relay and waits for its echo: whole, cut (a shorter reply
    /// that is the datagram's beginning), or nothing. Replies to earlier datagrams are skipped.
    private func roundTrip(
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

    /// A few words for a status line or a table cell, from the findings' keys, verdicts and
    /// figures (never from their words): UDP and what the data plane did, source locking, the
    /// payload limit.
    public static func summary(_ findings: [ProbeFinding]) -> String {
        let f = Dictionary(findings.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        if f["unreachable"] != nil { return "unreachable" }
        guard f["udp_associate"]?.verdict == .yes else { return "no UDP (\(f["udp_associate"]?.value ?? "?"))" }
        var parts: [String]
        switch f["relay_echo"]?.verdict {
        case .yes?: parts = ["UDP ✔ relayed"]
        case .no?: parts = ["UDP accepted, nothing came back"]
        default: parts = ["UDP accepted, relay not tried (no echo target)"]
        }
        if f["relay_echo"]?.verdict == .yes, f["declared_zero_relayed"]?.verdict == .no {
            parts.append("replies to declared port only")
        }
        if let lock = f["source_port_locking"], lock.verdict != .skipped {
            parts.append(lock.verdict == .yes ? "port-locked" : "no port lock")
        }
        if let cut = f["truncation"], cut.verdict == .yes, let n = cut.figure {
            parts.append("cuts to \(n) B")
        } else if let largest = f["largest_payload"]?.figure {
            parts.append(largest >= 65_000 ? "max 65000+ B" : "max \(largest) B")
        }
        if let dies = f["relay_dies_with_control"], dies.verdict == .no { parts.append("relay outlives control") }
        return parts.joined(separator: ", ")
    }

    private func skipped(_ key: String, _ title: String, _ why: String) -> ProbeFinding {
        ProbeFinding(key: key, title: title, verdict: .skipped, value: "not tried", evidence: why)
    }
}
