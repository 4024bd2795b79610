import Foundation
import NIOCore
import Socks5

/// The relay checks: what the data plane does with datagrams, learnt through the echo target.
extension CapabilityProbe {
    // MARK: - The relay

    /// What came back for one datagram sent to the echo target.
    enum Echo: Equatable {
        case whole
        /// A reply with the datagram's first bytes, shorter than it: the relay cut it.
        case cut(to: Int)
        case nothing
        /// The association ended (the server closed it): nothing more can go through it.
        case ended
    }

    func relayChecks(
        _ association: ProbeAssociation,
        echo: IPEndpoint,
        engine: SessionEngine,
        into findings: FindingLog
    ) async {
        /// One datagram through the association to the echo target.
        func echoed(_ text: String, fragment: UInt8 = 0) async -> Echo {
            await roundTrip(association, echo: echo, payload: Array(text.utf8), fragment: fragment, engine: engine)
        }

        // Round trip and RTT, from the data socket whose port the request declared.
        var rtts: [Double] = []
        for i in 0..<5 {
            let started = NIODeadline.now()
            let result = await echoed("socksdeck probe \(i)")
            if result == .ended {
                await serverEndedIt(association, echo: echo, engine: engine, into: findings)
                return
            }
            if result == .whole { rtts.append(Double((NIODeadline.now() - started).nanoseconds) / 1e6) }
        }
        let zero = await declaredZeroCheck(association, echo: echo, relayedWithDeclaration: !rtts.isEmpty, engine)
        guard !rtts.isEmpty else {
            let hangUp = await serverHangUp(association, engine)
            if let hangUp { findings.append(hangUp) }
            findings.append(
                ProbeFinding(
                    key: .relayEcho,
                    title: "datagrams relayed to the echo target",
                    verdict: .no,
                    value: "nothing came back",
                    evidence: "5 datagrams to \(echo) through \(association.rendezvous.asUsed) "
                        + "from the port declared in \(association.declared), none answered within "
                        + "\(stepTimeout.words)"
                )
            )
            findings.append(zero)
            findings.append(await rendezvousFinding(echo: echo))
            // The server ended the association at once: whether its relay lives on is still worth
            // knowing (a server that crashes after its reply leaves one behind, or not).
            if hangUp != nil {
                findings.append(await relayAfterControl(association, echo: echo, engine: engine, serverClosed: true))
            }
            return
        }
        rtts.sort()
        findings.append(
            ProbeFinding(
                key: .relayEcho,
                title: "datagrams relayed to the echo target",
                verdict: .yes,
                value: String(
                    format: "%d/5 echoed, RTT min %.2f ms, median %.2f ms",
                    rtts.count,
                    rtts[0],
                    Percentile.nearestRank(0.5, of: rtts) ?? 0
                ),
                evidence: "through \(association.rendezvous.asUsed) to \(echo), "
                    + "declared \(association.declared)"
            )
        )
        findings.append(zero)

        // A second source on the same host: a socket that is not the association's.
        let second = await StrangerSocket.roundTrip(
            relay: association.relay,
            echo: echo,
            payload: Array("second source".utf8),
            wait: stepTimeout
        )
        if let secondPort = second.local?.port {
            findings.append(
                ProbeFinding(
                    key: .sourcePortLocking,
                    title: "locks the association to the first source port",
                    verdict: second.echoed ? .no : .yes,
                    value: second.echoed
                        ? "no: a second source port is relayed" : "yes: a second source port is not relayed",
                    evidence: "after datagrams from port \(association.dataPort.map(String.init) ?? "?"), one from "
                        + "port \(secondPort) \(second.echoed ? "came back" : "got no echo")"
                )
            )
        } else {
            findings.append(
                skipped(.sourcePortLocking, "locks the association to the first source port", "no second data socket")
            )
        }

        // FRAG != 0.
        let fragment = await echoed("fragment", fragment: 1)
        if fragment == .ended {
            await serverEndedIt(association, echo: echo, engine: engine, into: findings)
            return
        }
        let fragmentEchoed = fragment != .nothing
        findings.append(
            ProbeFinding(
                key: .fragmentsDropped,
                title: "drops fragments (FRAG ≠ 0)",
                verdict: fragmentEchoed ? .no : .yes,
                value: fragmentEchoed ? "no: a FRAG 1 datagram was relayed" : "yes",
                evidence: "a datagram with FRAG 01 \(fragmentEchoed ? "came back" : "got no echo")"
            )
        )

        let payloads = await payloadChecks(association, echo: echo, engine: engine)
        guard let payloads else {
            await serverEndedIt(association, echo: echo, engine: engine, into: findings)
            return
        }
        findings += payloads

        // Did the server keep the control connection (RFC 1928: the association lives as long)?
        let hangUp = await serverHangUp(association, engine)
        if let hangUp { findings.append(hangUp) }

        findings.append(
            await relayAfterControl(association, echo: echo, engine: engine, serverClosed: hangUp != nil)
        )
    }

    /// Does the relay outlive its control connection? The association ends (both its sockets
    /// close, unless the server closed it already); a datagram from its port, 300 ms later, tells.
    func relayAfterControl(
        _ association: ProbeAssociation,
        echo: IPEndpoint,
        engine: SessionEngine,
        serverClosed: Bool
    ) async -> ProbeFinding {
        await engine.close(
            association.id,
            because: "the probe closed it, to see whether the relay outlives it",
            by: .engine
        )
        try? await engine.loop.scheduleTask(in: .milliseconds(300)) {}.futureResult.get()
        let after = await StrangerSocket.roundTrip(
            relay: association.relay,
            echo: echo,
            payload: Array("after close".utf8),
            port: association.dataPort ?? 0,
            wait: stepTimeout
        )
        let who = serverClosed ? "the server closed" : "the probe closed"
        guard let local = after.local, association.dataPort.map({ $0 == local.port }) ?? false else {
            return skipped(
                .relayDiesWithControl,
                "the relay ends with the control connection",
                "the association's port \(association.dataPort.map(String.init) ?? "?") could not be bound again"
            )
        }
        return ProbeFinding(
            key: .relayDiesWithControl,
            title: "the relay ends with the control connection",
            verdict: after.echoed ? .no : .yes,
            value: after.echoed ? "no: it still relays after the control connection closed" : "yes",
            evidence:
                "300 ms after \(who) the control connection a datagram from the association's port "
                + "\(after.echoed ? "was still echoed" : "got no echo")"
        )
    }

    /// The server ended the association during the relay checks: said, the checks that need it
    /// skipped, and whether its relay lives on asked from its port.
    private func serverEndedIt(
        _ association: ProbeAssociation,
        echo: IPEndpoint,
        engine: SessionEngine,
        into findings: FindingLog
    ) async {
        if let hangUp = await serverHangUp(association, engine) { findings.append(hangUp) }
        findings.append(
            skipped(
                .relay,
                "relay behaviour",
                "the server ended the association: RFC 1928 ends the relay with it, so a client stops using it"
            )
        )
        findings.append(await relayAfterControl(association, echo: echo, engine: engine, serverClosed: true))
    }

    /// The finding for a server that ended the control connection after granting, if it did.
    func serverHangUp(_ association: ProbeAssociation, _ engine: SessionEngine) async -> ProbeFinding? {
        guard let s = await engine.snapshot(association.id), s.closedBy == .server, let ended = s.ended,
            case .closed(let reason) = s.state
        else { return nil }
        let after = ended.timeIntervalSince(association.granted) * 1000
        return ProbeFinding(
            key: .serverKeepsControl,
            title: "the server keeps the control connection open",
            verdict: .no,
            value: "no: \(reason) " + String(format: "%.0f ms", max(after, 0)) + " after granting UDP ASSOCIATE",
            evidence: "RFC 1928 ends an association with its control connection, so a client must stop using it: "
                + "no relay check was made through it after that (a server that crashes after its reply does this)"
        )
    }

    /// Whether replies come back with the all-zero declaration, judged by datagrams, never by the
    /// REP byte: hpsockd accepts 0.0.0.0:0 and then sends the replies nowhere.
    func declaredZeroCheck(
        _ main: ProbeAssociation,
        echo: IPEndpoint,
        relayedWithDeclaration: Bool,
        _ engine: SessionEngine
    ) async -> ProbeFinding {
        let key = ProbeFinding.Key.declaredZeroRelayed
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
        guard let zero = try? await open(family: main.rendezvous.asUsed.family, declare: .zero, engine: engine) else {
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
            let result = await roundTrip(zero, echo: echo, payload: Array("zero \(i)".utf8), engine: engine)
            if result != .nothing && result != .ended { echoed += 1 }
        }
        await zero.end("the probe closed it: the all-zero check is done", engine: engine)
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
    /// a fixed buffer (v2ray: 2,048 bytes) returns the first bytes of every larger datagram. Nil
    /// when the association ended during the search (nothing can be concluded from it).
    func payloadChecks(
        _ association: ProbeAssociation,
        echo: IPEndpoint,
        engine: SessionEngine
    ) async -> [ProbeFinding]? {
        var low = 0
        var high = largestPayloadTried
        var cutTo: Int?
        var cutSizes: [Int] = []
        var ended = false
        func tryPayload(_ size: Int) async -> Bool {
            guard !ended else { return false }
            let result = await roundTrip(association, echo: echo, payload: Self.pattern(size), engine: engine)
            if case .cut(let n) = result {
                cutTo = n
                cutSizes.append(size)
            }
            if result == .ended { ended = true }
            return result == .whole
        }
        if await tryPayload(high) {
            low = high
        } else {
            // A cut reply tells where the cut is: check there first, then search as for loss.
            if let n = cutTo, n < high, await tryPayload(n) {
                low = n
                high = n + 1
                _ = await tryPayload(n + 1)
            }
            while high - low > 1 && !ended {
                let mid = (low + high) / 2
                if await tryPayload(mid) { low = mid } else { high = mid }
            }
        }
        if ended { return nil }
        var findings = [
            ProbeFinding(
                key: .largestPayload,
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
                    key: .truncation,
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
                    key: .truncation,
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

    /// Sends one datagram through the association and waits for its echo: whole, cut (a shorter
    /// reply that is the datagram's beginning), or nothing. Replies to earlier datagrams are
    /// skipped; what the engine's datagram policy drops never counts. A payload that cannot fit in
    /// one datagram to the relay is not sent.
    func roundTrip(
        _ association: ProbeAssociation,
        echo: IPEndpoint,
        payload: [UInt8],
        fragment: UInt8 = 0,
        engine: SessionEngine
    ) async -> Echo {
        guard UDPLimits.tooLarge(payload.count, to: .ip(echo), over: association.relay.family) == nil else {
            return .nothing
        }
        let reply: ExchangeReply?
        do {
            reply = try await engine.exchange(
                association.id,
                to: .ip(echo),
                request: payload,
                giveUpAt: stepTimeout,
                fragment: fragment,
                accepts: { reply in
                    let n = reply.count
                    let compared = min(n, 64)
                    guard n <= payload.count, reply.prefix(compared).elementsEqual(payload.prefix(compared)) else {
                        return false
                    }
                    // Tiny replies are earlier probes' echoes; a cut is at least a few hundred bytes.
                    return n == payload.count || n >= 256
                }
            )
        } catch {
            return .ended
        }
        guard let reply else {
            // The wait ends early, without a reply, when the association ends under it.
            return await engine.snapshot(association.id)?.state.isFinal ?? true ? .ended : .nothing
        }
        return reply.payload.count == payload.count ? .whole : .cut(to: reply.payload.count)
    }

    /// Nothing was echoed: whether the rendezvous itself answers, from a socket that sees ICMP errors.
    func rendezvousFinding(echo: IPEndpoint) async -> ProbeFinding {
        let target = SOCKSAddress.ip(echo)
        let title = "something answers at the rendezvous"
        let resolved = ResolvedServer(server: server, endpoint: endpoint, otherAddresses: otherAddresses)
        switch await RendezvousCheck.run(resolved, target: target) {
        case .answered(let rendezvous):
            return ProbeFinding(
                key: .rendezvousAnswers,
                title: title,
                verdict: .yes,
                value: "yes: a fresh association's datagram came back",
                evidence: "through \(rendezvous) to \(echo), from a data socket that queues ICMP errors"
            )
        case .unreachable(let error, let rendezvous):
            return ProbeFinding(
                key: .rendezvousAnswers,
                title: title,
                verdict: .no,
                value: error.kind == .portUnreachable ? "no: ICMP port unreachable" : "no: ICMP \(error.kind)",
                evidence: RendezvousCheck.meaning(error, rendezvous: rendezvous, target: target)
            )
        case .silent(let rendezvous):
            return ProbeFinding(
                key: .rendezvousAnswers,
                title: title,
                verdict: .info,
                value: "no answer and no ICMP error",
                evidence: "a datagram to \(echo) through \(rendezvous) drew nothing within 1 s: the relay (or a "
                    + "firewall) drops it silently, or the target does not answer"
            )
        case .notOpened(let why):
            return ProbeFinding(
                key: .rendezvousAnswers,
                title: title,
                verdict: .skipped,
                value: "not checked",
                evidence: "a fresh association could not be opened: \(why)"
            )
        }
    }
}
