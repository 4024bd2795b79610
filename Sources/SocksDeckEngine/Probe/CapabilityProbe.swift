#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Socks5

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

    public init(server: ServerDefinition, endpoint: IPEndpoint, echo: IPEndpoint?) {
        self.server = server
        self.endpoint = endpoint
        self.echo = echo
    }

    var options: SOCKS5Options { SOCKS5Options(credentials: server.credentials, timeoutMilliseconds: stepTimeoutMilliseconds) }

    public func run() -> [ProbeFinding] {
        var findings: [ProbeFinding] = []
        findings += methods()
        let (udp, association) = udpAssociate(family: endpoint.family)
        findings += udp
        findings.append(otherFamily())
        findings.append(command(.connect, to: .ip(endpoint)))
        findings.append(command(.bind, to: .unspecified(endpoint.family)))
        guard let association else {
            findings.append(skipped("relay", "relay behaviour", "no UDP association"))
            return findings
        }
        guard let echo else {
            findings.append(skipped("relay", "relay behaviour", "no echo target: give --echo HOST:PORT"))
            return findings
        }
        findings += relayChecks(association, echo: echo)
        return findings
    }

    // MARK: - Methods

    private func methods() -> [ProbeFinding] {
        func offer(_ methods: [UInt8]) -> String {
            let fd = socket(endpoint.family.rawFamily, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            defer { close(fd) }
            setTimeout(fd)
            guard endpoint.withSockaddr({ connect(fd, $0, $1) }) == 0 else { return "unreachable (\(ErrorCatalogue.decode(errno: errno).name))" }
            let greeting = [0x05, UInt8(methods.count)] + methods
            _ = send(fd, greeting, greeting.count, Int32(MSG_NOSIGNAL))
            var reply = [UInt8](repeating: 0, count: 2)
            let n = recv(fd, &reply, 2, Int32(MSG_WAITALL))
            guard n == 2 else { return n == 0 ? "closed without a reply" : "no reply" }
            return reply[0] != 5 ? "not SOCKS5 (\(reply.map { String(format: "%02x", $0) }.joined(separator: " ")))" : String(format: "%02x", reply[1])
        }
        let none = offer([0x00])
        let userpass = offer([0x02])
        return [
            ProbeFinding(key: "method_none", title: "accepts no authentication", verdict: none == "00" ? .yes : .no,
                         value: none == "00" ? "yes" : none == "ff" ? "no (FF)" : none, evidence: "greeting 05 01 00 → \(none)"),
            ProbeFinding(key: "method_userpass", title: "accepts username/password (RFC 1929)", verdict: userpass == "02" ? .yes : .no,
                         value: userpass == "02" ? "yes" : userpass == "ff" ? "no (FF)" : userpass, evidence: "greeting 05 01 02 → \(userpass)"),
        ]
    }

    // MARK: - UDP ASSOCIATE

    final class Association {
        let control: Int32
        let rendezvous: RendezvousAddress
        init(control: Int32, rendezvous: RendezvousAddress) {
            self.control = control
            self.rendezvous = rendezvous
        }
        deinit { close(control) }
    }

    private func udpAssociate(family: AddressFamily) -> ([ProbeFinding], Association?) {
        let fd = socket(endpoint.family.rawFamily, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        let started = Date()
        do {
            let r = try SOCKS5Client.associateUDP(controlSocket: fd, server: endpoint, family: family, options: options)
            let ms = Date().timeIntervalSince(started) * 1000
            let association = Association(control: fd, rendezvous: r)
            var form = "concrete"
            if r.replacedUnspecified { form = "unspecified (\(r.asReceived)), the server's address used" }
            if r.asUsed.port == endpoint.port { form += "; the SOCKS port itself" }
            if r.asUsed.family != family { form += "; \(r.asUsed.family), not the \(family) asked for" }
            return ([
                ProbeFinding(key: "udp_associate", title: "UDP ASSOCIATE", verdict: .yes, value: "rendezvous \(r.asUsed)",
                             evidence: "requested with DST \(SOCKSAddress.unspecified(family)) over \(endpoint.family): BND \(r.asReceived)"),
                ProbeFinding(key: "zero_dst_accepted", title: "accepts a declared all-zero DST", verdict: .yes, value: "yes",
                             evidence: "the request declared \(SOCKSAddress.unspecified(family)) and succeeded"),
                ProbeFinding(key: "bnd_form", title: "BND form", verdict: .info, value: form, evidence: "BND \(r.asReceived), control connection to \(endpoint)"),
                ProbeFinding(key: "setup_time", title: "association setup time", verdict: .info, value: String(format: "%.2f ms", ms),
                             evidence: "connect, greeting, \(server.credentials == nil ? "" : "RFC 1929, ")request, reply"),
            ], association)
        } catch {
            close(fd)
            let d = error.decoded
            return ([ProbeFinding(key: "udp_associate", title: "UDP ASSOCIATE", verdict: .no, value: "\(d.name): \(d.summary)",
                                  evidence: error.description)], nil)
        }
    }

    private func otherFamily() -> ProbeFinding {
        let other: AddressFamily = endpoint.family == .ipv4 ? .ipv6 : .ipv4
        let fd = socket(endpoint.family.rawFamily, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(fd) }
        do {
            let r = try SOCKS5Client.associateUDP(controlSocket: fd, server: endpoint, family: other, options: options)
            let asked = r.asUsed.family == other
            return ProbeFinding(key: "udp_associate_\(other == .ipv6 ? "ipv6" : "ipv4")", title: "UDP ASSOCIATE asking for \(other)",
                                verdict: asked ? .yes : .info,
                                value: "rendezvous \(r.asUsed)" + (asked ? "" : " (\(r.asUsed.family), not the \(other) asked for)"),
                                evidence: "DST \(SOCKSAddress.unspecified(other)) over an \(endpoint.family) control connection: BND \(r.asReceived)")
        } catch {
            return ProbeFinding(key: "udp_associate_\(other == .ipv6 ? "ipv6" : "ipv4")", title: "UDP ASSOCIATE asking for \(other)",
                                verdict: .no, value: error.decoded.name, evidence: error.description)
        }
    }

    private func command(_ command: Command, to address: SOCKSAddress) -> ProbeFinding {
        let fd = socket(endpoint.family.rawFamily, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(fd) }
        let key = command == .connect ? "connect" : "bind"
        do {
            let reply = command == .connect
                ? try SOCKS5Client.connect(controlSocket: fd, server: endpoint, target: address, options: options)
                : try SOCKS5Client.bind(controlSocket: fd, server: endpoint, expectedPeer: address, options: options)
            return ProbeFinding(key: key, title: "\(command)", verdict: .yes, value: "succeeded, BND \(reply.boundAddress)",
                                evidence: "\(command) \(address) → REP 00")
        } catch {
            // A refusal of the target (REP 2–5) still shows the command is understood.
            let understood = [.notAllowed, .networkUnreachable, .hostUnreachable, .connectionRefused].contains(error.code)
            return ProbeFinding(key: key, title: "\(command)", verdict: understood ? .info : .no,
                                value: understood ? "understood, refused here: \(error.decoded.name)" : "\(error.decoded.name): \(error.decoded.summary)",
                                evidence: "\(command) \(address): \(error.description)")
        }
    }

    // MARK: - The relay

    private func relayChecks(_ association: Association, echo: IPEndpoint) -> [ProbeFinding] {
        var findings: [ProbeFinding] = []
        let relay = association.rendezvous.asUsed
        let first = datagramSocket(relay.family)
        let second = datagramSocket(relay.family)
        defer { close(first); close(second) }

        // Round trip and RTT.
        var rtts: [Double] = []
        for i in 0..<5 {
            let started = Date()
            if roundTrip(first, relay: relay, echo: echo, payload: Array("socksdeck probe \(i)".utf8)) {
                rtts.append(Date().timeIntervalSince(started) * 1000)
            }
        }
        guard !rtts.isEmpty else {
            findings.append(ProbeFinding(key: "relay_echo", title: "datagrams relayed to the echo target", verdict: .no,
                                         value: "no echo came back", evidence: "5 datagrams to \(echo) through \(relay), none answered within \(stepTimeoutMilliseconds) ms"))
            return findings
        }
        rtts.sort()
        findings.append(ProbeFinding(key: "relay_echo", title: "datagrams relayed to the echo target", verdict: .yes,
                                     value: String(format: "%d/5 echoed, RTT min %.2f ms, median %.2f ms", rtts.count, rtts[0], rtts[rtts.count / 2]),
                                     evidence: "through \(relay) to \(echo)"))

        // A second source on the same host.
        let fromSecond = roundTrip(second, relay: relay, echo: echo, payload: Array("second source".utf8))
        findings.append(ProbeFinding(key: "source_port_locking", title: "locks the association to the first source port",
                                     verdict: fromSecond ? .no : .yes,
                                     value: fromSecond ? "no: a second source port is relayed" : "yes: a second source port is not relayed",
                                     evidence: "after datagrams from port \(localPort(first)), one from port \(localPort(second)) \(fromSecond ? "came back" : "got no echo")"))

        // FRAG != 0.
        let fragmentEchoed = roundTrip(first, relay: relay, echo: echo, payload: Array("fragment".utf8), fragment: 1)
        findings.append(ProbeFinding(key: "frag_dropped", title: "drops fragments (FRAG ≠ 0)", verdict: fragmentEchoed ? .no : .yes,
                                     value: fragmentEchoed ? "no: a FRAG 1 datagram was relayed" : "yes",
                                     evidence: "a datagram with FRAG 01 \(fragmentEchoed ? "came back" : "got no echo")"))

        // The largest payload relayed: binary search, at most 17 tries.
        var low = 0
        var high = largestPayloadTried
        if roundTrip(first, relay: relay, echo: echo, payload: [UInt8](repeating: 0x5A, count: high)) {
            low = high
        } else {
            while high - low > 1 {
                let mid = (low + high) / 2
                if roundTrip(first, relay: relay, echo: echo, payload: [UInt8](repeating: 0x5A, count: mid)) { low = mid } else { high = mid }
            }
        }
        findings.append(ProbeFinding(key: "largest_payload", title: "largest payload relayed", verdict: .info,
                                     value: low == largestPayloadTried ? "\(low) bytes or more" : "\(low) bytes",
                                     evidence: low == largestPayloadTried ? "\(low) bytes came back" : "\(low) bytes came back, \(low + 1) did not"))

        // Does the relay outlive its control connection?
        shutdown(association.control, Int32(SHUT_RDWR))
        usleep(300_000)
        let survives = roundTrip(first, relay: relay, echo: echo, payload: Array("after close".utf8))
        findings.append(ProbeFinding(key: "relay_dies_with_control", title: "the relay ends with the control connection",
                                     verdict: survives ? .no : .yes,
                                     value: survives ? "no: it still relays after the control connection closed" : "yes",
                                     evidence: "300 ms after closing the control connection a datagram \(survives ? "was still echoed" : "got no echo")"))
        return findings
    }

    private func datagramSocket(_ family: AddressFamily) -> Int32 {
        let fd = socket(family.rawFamily, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        _ = IPEndpoint(.unspecified(family), port: 0).withSockaddr { bind(fd, $0, $1) }
        setTimeout(fd)
        return fd
    }

    private func setTimeout(_ fd: Int32) {
        var tv = timeval(tv_sec: Int(stepTimeoutMilliseconds / 1000), tv_usec: Int(stepTimeoutMilliseconds % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    private func localPort(_ fd: Int32) -> UInt16 { IPEndpoint.local(of: fd)?.port ?? 0 }

    /// Sends one datagram through the relay and waits for its echo (matched by content).
    private func roundTrip(_ fd: Int32, relay: IPEndpoint, echo: IPEndpoint, payload: [UInt8], fragment: UInt8 = 0) -> Bool {
        let header = UDPDatagramHeader(fragment: fragment, address: .ip(echo))
        var datagram = [UInt8](repeating: 0, count: header.encodedLength)
        datagram.withUnsafeMutableBytes { _ = header.write(into: $0) }
        datagram += payload
        guard datagram.count <= UDPLimits.maximumPayload(relay.family) else { return false }
        guard relay.withSockaddr({ sendto(fd, datagram, datagram.count, 0, $0, $1) }) >= 0 else { return false }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let deadline = Date().addingTimeInterval(Double(stepTimeoutMilliseconds) / 1000)
        while Date() < deadline {
            let received = buffer.withUnsafeMutableBytes {
                try? DatagramIO.receive(socket: fd, into: $0, relay: relay)
            }
            guard let received else { return false }
            if received.originalLength == payload.count && buffer.prefix(min(payload.count, 64)).elementsEqual(payload.prefix(64)) { return true }
        }
        return false
    }

    /// A few words for a status line or a table cell: UDP, source locking, payload limit.
    public static func summary(_ findings: [ProbeFinding]) -> String {
        let f = Dictionary(findings.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        if f["method_none"]?.value.hasPrefix("unreachable") == true { return "unreachable" }
        guard f["udp_associate"]?.verdict == .yes else { return "no UDP (\(f["udp_associate"]?.value ?? "?"))" }
        var parts = ["UDP ✔"]
        if let lock = f["source_port_locking"], lock.verdict != .skipped { parts.append(lock.verdict == .yes ? "port-locked" : "no port lock") }
        if let payload = f["largest_payload"] { parts.append("max " + payload.value.replacingOccurrences(of: " bytes or more", with: "+ B").replacingOccurrences(of: " bytes", with: " B")) }
        if let dies = f["relay_dies_with_control"], dies.verdict == .no { parts.append("relay outlives control") }
        return parts.joined(separator: ", ")
    }

    private func skipped(_ key: String, _ title: String, _ why: String) -> ProbeFinding {
        ProbeFinding(key: key, title: title, verdict: .skipped, value: "not tried", evidence: why)
    }
}
