import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Socks5
import Synchronization

/// The capability and quirk report of `socksdeck probe`: what a SOCKS5 server does with UDP,
/// learnt by trying. It runs on an event loop (the engine's: `SessionEngine.run(_:progress:)`),
/// every connection and socket a NIO channel, every message the library's codec, every handshake
/// driven by the engine's own `ControlConnectionHandler`. Bounded: every wait is at most
/// `stepTimeout`, the payload search at most 17 tries, so a probe ends within about
/// 30 s against the slowest server; it sends a few dozen datagrams, never a flood.
package struct CapabilityProbe: Sendable {
    package var server: ServerDefinition
    package var endpoint: IPEndpoint
    /// A UDP echo target for the relay checks; without one they are skipped.
    package var echo: IPEndpoint?
    package var stepTimeout: Duration = .milliseconds(1500)
    /// The payload search's upper bound.
    package var largestPayloadTried = 65_000
    /// Where the probe's connections and datagrams are captured (`probe --pcap`); nil: nowhere.
    package var capture: ProbeCapture?

    /// The server's other addresses (its name resolved to more than one): an unspecified BND of the
    /// other family than `endpoint` is replaced by one of them, as the engine's associations do.
    package var otherAddresses: [IPAddress]

    package init(server: ServerDefinition, endpoint: IPEndpoint, otherAddresses: [IPAddress] = [], echo: IPEndpoint?) {
        self.server = server
        self.endpoint = endpoint
        self.otherAddresses = otherAddresses
        self.echo = echo
    }

    /// The probe of `resolved`'s server at the address the engine would use, with the others kept.
    package init(_ resolved: ResolvedServer, echo: IPEndpoint?) {
        self.init(
            server: resolved.server,
            endpoint: resolved.endpoint,
            otherAddresses: resolved.otherAddresses,
            echo: echo
        )
    }

    /// The rendezvous rule with everything the probe knows of the server, as the engine applies it.
    func rendezvous(_ reply: SOCKSAddress) throws(SOCKS5Error) -> RendezvousAddress {
        try RendezvousAddress(reply: reply, server: endpoint, serverAddresses: otherAddresses)
    }

    var step: TimeAmount { TimeAmount(stepTimeout) }

    /// A capture stream for one connection, when capturing.
    func stream(_ what: String) -> ProbeCapture.Stream? { capture?.stream(what, server: server) }

    /// Runs every check, in order, on `loop`, and returns the findings. `progress` is called with
    /// each finding as soon as it is established, for a front end that shows the work as it goes:
    /// the relay checks take up to ~30 s.
    package func run(
        on loop: EventLoop,
        progress: @escaping @Sendable (ProbeFinding) -> Void = { _ in }
    ) async -> [ProbeFinding] {
        let findings = FindingLog(progress)
        findings += await methods(on: loop)
        let (udp, association) = await udpAssociate(family: endpoint.family, on: loop)
        findings += udp
        findings.append(await otherFamily(on: loop))
        findings.append(await command(.connect, to: .ip(endpoint), on: loop))
        findings.append(await command(.bind, to: .unspecified(endpoint.family), on: loop))
        guard let association else {
            findings.append(skipped(.relay, "relay behaviour", "no UDP association"))
            return findings.all
        }
        defer { association.close("the probe closed it: its checks are done") }
        guard let echo else {
            findings.append(skipped(.relay, "relay behaviour", "no echo target: give --echo HOST:PORT"))
            return findings.all
        }
        await relayChecks(association, echo: echo, on: loop, into: findings)
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

    // MARK: - UDP ASSOCIATE

    /// An association of the probe: its data socket bound first (its port declared by the
    /// server's policy), as the engine opens its own, held by a class so that the checks share it.
    final class Association: Sendable {
        let control: Channel
        let data: ProbeDataSocket
        let rendezvous: RendezvousAddress
        let declared: SOCKSAddress
        /// Its capture stream, when the probe captures.
        let stream: ProbeCapture.Stream?
        /// When the server ended the control connection, if it did; and when it granted.
        let serverEnded: ServerEnd
        let granted = NIODeadline.now()

        init(
            control: Channel,
            data: ProbeDataSocket,
            rendezvous: RendezvousAddress,
            declared: SOCKSAddress,
            stream: ProbeCapture.Stream?,
            serverEnded: ServerEnd = ServerEnd()
        ) {
            self.serverEnded = serverEnded
            self.control = control
            self.data = data
            self.rendezvous = rendezvous
            self.declared = declared
            self.stream = stream
        }

        /// Set by the first close of the control connection: the capture records one end.
        private let controlClosed = NIOLockedValueBox(false)

        var relay: IPEndpoint { rendezvous.asUsed }

        /// Closes the control connection, once (the relay check closes it before the end), and
        /// says why in the capture.
        func closeControl(_ why: String) async {
            guard closingControlFirst() else { return }
            stream?.closed(why)
            try? await control.close()
        }

        /// True for the first caller only.
        private func closingControlFirst() -> Bool {
            controlClosed.withLockedValue { closed in
                defer { closed = true }
                return !closed
            }
        }

        func close(_ why: String) {
            if closingControlFirst() {
                stream?.closed(why)
                control.close(promise: nil)
            }
            data.close()
        }
    }

    func open(
        family: AddressFamily,
        declare: DeclaredSource,
        on loop: EventLoop
    ) async throws(SOCKS5Error)
        -> Association
    {
        let stream = stream("UDP ASSOCIATE (\(family), declaring \(declare))")
        let data: ProbeDataSocket
        do {
            data = try await ProbeDataSocket.bind(on: loop)
        } catch {
            stream?.closed("the probe closed it: \(error.decoded.name)")
            throw error
        }
        let declaration = DeclarationBox()
        let (server, port) = (self.server, data.local.port)
        do throws(SOCKS5Error) {
            let control = try await ControlConnection.open(to: endpoint, on: loop, timeout: step, stream: stream) {
                local in
                let declared = declare.declaration(family: family, dataSocketPort: port, controlLocal: local?.address)
                declaration.value = declared
                return ClientHandshake(command: .udpAssociate, address: declared, credentials: server.credentials)
            }
            let rendezvous: RendezvousAddress
            do {
                rendezvous = try self.rendezvous(control.reply.boundAddress)
            } catch {
                control.channel.close(promise: nil)
                throw error
            }
            return Association(
                control: control.channel,
                data: data,
                rendezvous: rendezvous,
                declared: declaration.value ?? .unspecified(family),
                stream: stream,
                serverEnded: control.serverEnded
            )
        } catch {
            stream?.closed("the probe closed it: \(error.decoded.name)")
            data.close()
            throw error
        }
    }

    /// What the request declared, set on the loop when the connection is up and read after the
    /// reply, off the loop.
    final class DeclarationBox: Sendable {
        private let declared = Mutex<SOCKSAddress?>(nil)
        var value: SOCKSAddress? {
            get { declared.withLock { $0 } }
            set { declared.withLock { $0 = newValue } }
        }
    }

    func udpAssociate(family: AddressFamily, on loop: EventLoop) async -> ([ProbeFinding], Association?) {
        let started = NIODeadline.now()
        do {
            let association = try await open(family: family, declare: server.declare, on: loop)
            let ms = Double((NIODeadline.now() - started).nanoseconds) / 1e6
            let r = association.rendezvous
            return (
                [
                    ProbeFinding(
                        key: .udpAssociate,
                        title: "UDP ASSOCIATE",
                        verdict: .yes,
                        value: "rendezvous \(r.asUsed)",
                        evidence: "requested \(family) with DST \(association.declared) over \(endpoint.family): "
                            + "BND \(r.asReceived)"
                    ),
                    Self.boundForm(r, asked: family, socksPort: endpoint.port),
                    ProbeFinding(
                        key: .setupTime,
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
                        key: .udpAssociate,
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
            key: .bndForm,
            title: "BND form",
            verdict: .info,
            value: sent.joined(separator: "; "),
            evidence: "the server sent BND \(r.asReceived) to a control connection to "
                + "\(r.server)\(used)"
        )
    }

    func skipped(_ key: ProbeFinding.Key, _ title: String, _ why: String) -> ProbeFinding {
        ProbeFinding(key: key, title: title, verdict: .skipped, value: "not tried", evidence: why)
    }
}
