import Foundation
import Socks5

#if canImport(Glibc)
import Glibc
#endif

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
    func options(capturing what: String) -> (SOCKS5Options, ProbeCapture.Stream?) {
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

    func methods() -> [ProbeFinding] {
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

    func open(family: AddressFamily, declare: DeclaredSource) throws(SOCKS5Error) -> Association {
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

    func udpAssociate(family: AddressFamily) -> ([ProbeFinding], Association?) {
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

    func otherFamily() -> ProbeFinding {
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

    func command(_ command: Command, to address: SOCKSAddress) -> ProbeFinding {
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

    func skipped(_ key: String, _ title: String, _ why: String) -> ProbeFinding {
        ProbeFinding(key: key, title: title, verdict: .skipped, value: "not tried", evidence: why)
    }
}
