import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Socks5
import Synchronization

/// The capability and quirk report of `socksdeck probe`: what a SOCKS5 server does with UDP,
/// learnt by trying. A client of the engine (`SessionEngine.run(_:progress:)`): its associations
/// are the engine's, opened with the probe's declaration, family and bounds, its datagrams the
/// engine's exchanges; the method and command checks are connections on the engine's loop, every
/// handshake driven by the engine's own `ControlConnectionHandler`. Bounded: every wait is at most
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
    /// Where the probe's method and command connections are captured (`probe --pcap`; its
    /// associations are captured by the engine, as it captures every association); nil: nowhere.
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

    /// Runs every check, in order, and returns the findings: the connections of the method and
    /// command checks on the engine's loop, the associations the engine's own (opened, used and
    /// forgotten again). `progress` is called with each finding as soon as it is established, for a
    /// front end that shows the work as it goes: the relay checks take up to ~30 s.
    func run(
        on engine: SessionEngine,
        progress: @escaping @Sendable (ProbeFinding) -> Void = { _ in }
    ) async -> [ProbeFinding] {
        let loop = engine.loop
        let findings = FindingLog(progress)
        findings += await methods(on: loop)
        let (udp, association) = await udpAssociate(family: endpoint.family, engine: engine)
        findings += udp
        findings.append(await otherFamily(on: loop))
        findings.append(await command(.connect, to: .ip(endpoint), on: loop))
        findings.append(await command(.bind, to: .unspecified(endpoint.family), on: loop))
        guard let association else {
            findings.append(skipped(.relay, "relay behaviour", "no UDP association"))
            return findings.all
        }
        if let echo {
            await relayChecks(association, echo: echo, engine: engine, into: findings)
        } else {
            findings.append(skipped(.relay, "relay behaviour", "no echo target: give --echo HOST:PORT"))
        }
        await association.end("the probe closed it: its checks are done", engine: engine)
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

    /// One of the probe's associations: an engine association, with what the checks need of it.
    struct ProbeAssociation: Sendable {
        let id: AssociationID
        let rendezvous: RendezvousAddress
        let declared: SOCKSAddress
        /// The data socket's port, which the relay knows the association by.
        let dataPort: UInt16?
        /// When the server granted it, and how long connecting, negotiating and asking took.
        let granted: Date
        let setupTime: Duration

        var relay: IPEndpoint { rendezvous.asUsed }

        /// Closes it (if the server has not) and forgets it: the probe's associations are not the
        /// user's to keep.
        func end(_ why: String, engine: SessionEngine) async {
            await engine.close(id, because: why, by: .engine)
            _ = await engine.forget(id)
        }
    }

    /// Opens an association through the engine, declaring by `declare`. The probe's own bounds:
    /// each step within `stepTimeout`; a receive buffer that takes any UDP datagram (the payload
    /// search goes up to `largestPayloadTried`).
    func open(
        family: AddressFamily,
        declare: DeclaredSource,
        engine: SessionEngine
    ) async throws(SOCKS5Error) -> ProbeAssociation {
        var definition = server
        definition.declare = declare
        definition.connectTimeout = stepTimeout
        definition.handshakeTimeout = stepTimeout
        definition.receiveBufferBytes = max(definition.receiveBufferBytes, ServerDefinition.defaultReceiveBufferBytes)
        let resolved = ResolvedServer(server: definition, endpoint: endpoint, otherAddresses: otherAddresses)
        let settled: AssociationSnapshot
        do {
            settled = try await engine.openAndWait(resolved, family: family, timeout: definition.settleBound)
        } catch {
            throw .system(ECANCELED, "the engine ended: \(error)")
        }
        switch settled.state {
        case .associated:
            guard let rendezvous = settled.rendezvous, let declared = settled.declared else {
                await engine.close(settled.id, because: "associated without a rendezvous", by: .engine)
                _ = await engine.forget(settled.id)
                throw .system(EPROTO, "associated without a rendezvous")
            }
            let granted = settled.history.last?.since ?? Date()
            return ProbeAssociation(
                id: settled.id,
                rendezvous: rendezvous,
                declared: declared,
                dataPort: settled.dataSocketLocal.flatMap(IPEndpoint.init)?.port,
                granted: granted,
                setupTime: .seconds(granted.timeIntervalSince(settled.opened))
            )
        case .failed(let failure):
            _ = await engine.forget(settled.id)
            throw failure.error
        default: break
        }
        await engine.close(settled.id, because: "the probe gave up on it", by: .engine)
        _ = await engine.forget(settled.id)
        throw .system(ETIMEDOUT, "UDP ASSOCIATE did not settle within \(definition.settleBound.words)")
    }

    func udpAssociate(family: AddressFamily, engine: SessionEngine) async -> ([ProbeFinding], ProbeAssociation?) {
        do {
            let association = try await open(family: family, declare: server.declare, engine: engine)
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
                        value: String(format: "%.2f ms", association.setupTime.milliseconds),
                        evidence: "data socket bound, connect, greeting, "
                            + "\(server.credentials == nil ? "" : "RFC 1929, ")request, reply"
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
