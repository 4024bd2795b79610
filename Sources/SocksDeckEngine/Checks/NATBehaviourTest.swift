import Foundation
import Socks5
import UDPChecks

/// The relay's NAT behaviour (RFC 5780 §4.3 mapping, §4.4 filtering) through one association,
/// with a STUN server that gives OTHER-ADDRESS. What real relays do shapes the order (measured
/// with Dante, ss-server and coturn): every test runs from the association's one data socket (many
/// relays lock to the client's first source port, and splitting tests over sockets makes a relay
/// with one outbound socket per client port look symmetric); filtering runs first, in the fresh
/// association, then mapping, then filtering again, because a relay that connects its outbound
/// socket while it has one destination (Dante) changes its filtering once it has a second; and
/// replies are matched by transaction id and judged by RESPONSE-ORIGIN, never by the SOCKS
/// header's sender, which some relays label with the destination the client sent to.
extension SessionEngine {
    /// The filtering tests wait out replies that never come, up to four times: 300 ms, then a
    /// resend and 600 ms more, then 600 (1.5 s each), enough for a STUN server across the world.
    package static let natRetransmission = STUNRetransmission(
        rto: .milliseconds(300),
        requests: 3,
        finalWaitMultiplier: 2
    )

    /// The NAT test needs an association that has sent nowhere yet (a relay's filtering can
    /// change once it has a second destination): it opens one of its own through the same server,
    /// asking for the same family, runs there, and closes it.
    func natBehaviourInFreshAssociation(
        like id: AssociationID,
        server: SOCKSAddress,
        retransmission: STUNRetransmission,
        reuseIfUnused: Bool = false
    ) async throws(EngineError) -> CheckResult {
        guard let (definition, family) = await definition(of: id) else { throw .unknownAssociation(id) }
        if reuseIfUnused, let given = await snapshot(id), given.state == .associated,
            given.counters.datagramsSent == 0
        {
            // Nothing has gone through it yet: it is as fresh as a new one would be (check --nat
            // alone would otherwise open an association it never uses).
            var result = try await natBehaviour(through: id, server: server, retransmission: retransmission)
            result.evidence.insert("run in \(id), through which nothing had been sent before", at: 0)
            return result
        }
        let fresh = try await open(server: definition, family: family)
        let settled = await waitUntilSettled(fresh, timeout: definition.settleBound)
        let outcome: Result<CheckResult, EngineError>
        if settled?.state == .associated {
            do throws(EngineError) {
                outcome = .success(
                    try await natBehaviour(through: fresh, server: server, retransmission: retransmission)
                )
            } catch {
                outcome = .failure(error)
            }
        } else {
            outcome = .failure(.notAssociated(fresh, state: settled?.state.description ?? "unsettled"))
        }
        await close(fresh, because: "the NAT test it was opened for is over", by: .engine)
        _ = await forget(fresh)
        var result = try outcome.get()
        result.evidence.insert(
            "run in a fresh association, \(fresh), through the same server: a relay may filter differently once an "
                + "association has sent elsewhere",
            at: 0
        )
        return result
    }

    package func natBehaviour(
        through id: AssociationID,
        server: SOCKSAddress,
        retransmission: STUNRetransmission = natRetransmission
    ) async throws(EngineError) -> CheckResult {
        var evidence: [String] = []
        var nat: NATFinding?
        func finish(_ summary: String) -> CheckResult {
            CheckResult(
                check: .nat,
                target: server,
                finding: nat.map(CheckFinding.nat) ?? .noAnswer,
                summary: summary,
                evidence: evidence,
                sends: 0
            )
        }
        // Test I: a plain Binding to the primary address.
        func binding(
            _ to: SOCKSAddress,
            changeIP: Bool = false,
            changePort: Bool = false
        ) async throws(EngineError)
            -> STUNReply?
        {
            try await self.binding(
                id,
                to: to,
                changeIP: changeIP,
                changePort: changePort,
                retransmission: retransmission
            )
        }
        guard let first = try await binding(server) else {
            evidence.append("test I: a Binding request to \(server) got no answer")
            return finish("no answer from the STUN server")
        }
        let m1 = first.response.mapped!
        nat = NATFinding(mapped: m1)
        evidence.append("test I: Binding to \(server): mapped \(m1)" + Self.origin(first))
        Self.noteLabelling(first, &evidence)
        guard let other = first.response.alternate, let alternate = IPEndpoint("\(other)"),
            let primary = first.response.responseOrigin.flatMap({ IPEndpoint("\($0)") }) ?? server.endpoint
        else {
            evidence.append("no OTHER-ADDRESS in the response: this STUN server cannot do RFC 5780's tests")
            return finish("the STUN server cannot test NAT behaviour (no OTHER-ADDRESS): mapped \(m1)")
        }
        evidence.append("OTHER-ADDRESS \(alternate): the server's second address and port")
        if alternate.address == primary.address {
            evidence.append(
                "the other address has the server's own IP: only the port can change (change-IP tests cannot tell)"
            )
        }
        let before = try await filtering(primary: primary, label: "before", &evidence, binding)
        nat?.filtering = before
        if alternate.address == primary.address {
            // Without a second IP, test II would go where test I went: only the other port can
            // be tried, which tells address-and-port-dependent mapping from the rest, no more.
            guard let third = try await binding(.ip(alternate)) else {
                evidence.append("mapping test III: a Binding to \(alternate) got no answer")
                return finish("filtering \(before.rawValue); mapping untested: \(alternate) did not answer")
            }
            let m3 = third.response.mapped!
            evidence.append("mapping test III: Binding to \(alternate): mapped \(m3)" + Self.origin(third))
            let caveat = "the server has no second IP, so a change of IP was never tried"
            guard m3 != m1 else {
                evidence.append(
                    "the same mapping for another port of the same IP: endpoint-independent or address-dependent; "
                        + caveat
                )
                return finish(
                    "mapping undetermined (endpoint-independent or address-dependent: \(caveat)); "
                        + "filtering \(before.rawValue) as far as a port change tells"
                )
            }
            nat?.mapping = .addressAndPortDependent
            return finish(
                "mapping address-and-port-dependent (\(nat?.legacyName ?? "")); filtering \(before.rawValue) as far "
                    + "as a port change tells (\(caveat))"
            )
        }
        // Mapping, §4.3: the mapped address for other destinations.
        let mapping: NATBehaviour
        let toAlternateIP = IPEndpoint(alternate.address, port: primary.port)
        guard let second = try await binding(.ip(toAlternateIP)) else {
            evidence.append("mapping test II: a Binding to \(toAlternateIP) got no answer")
            return finish("filtering \(before.rawValue); mapping untested: \(toAlternateIP) did not answer")
        }
        let m2 = second.response.mapped!
        evidence.append("mapping test II: Binding to \(toAlternateIP): mapped \(m2)" + Self.origin(second))
        if m2 == m1 {
            mapping = .endpointIndependent
        } else {
            guard let third = try await binding(.ip(alternate)) else {
                evidence.append("mapping test III: a Binding to \(alternate) got no answer")
                return finish("filtering \(before.rawValue); mapping untested: \(alternate) did not answer")
            }
            let m3 = third.response.mapped!
            evidence.append("mapping test III: Binding to \(alternate): mapped \(m3)" + Self.origin(third))
            mapping = m3 == m2 ? .addressDependent : .addressAndPortDependent
        }
        let after = try await filtering(primary: primary, label: "after", &evidence, binding)
        nat?.mapping = mapping
        nat?.filteringAfterMapping = after
        var summary = "mapping \(mapping.rawValue), filtering \(before.rawValue) (\(nat?.legacyName ?? ""))"
        if before == .addressDependent && after == .endpointIndependent {
            // Expected: the mapping tests sent to the other address, which an address-dependent
            // filter then admits, from any of its ports.
            evidence.append(
                "after the mapping tests sent to \(alternate.address), its replies pass: "
                    + "as an address-dependent filter does"
            )
        } else if after != before {
            summary += "; filtering \(after.rawValue) once the relay has sent to other destinations"
            evidence.append(
                "the filtering changed after the mapping tests: a relay that keeps its socket connected to "
                    + "its one destination and opens it once there is a second (Dante with udp.connectdst)"
            )
        }
        evidence.append("every test ran from the association's one data socket (source-port locking cannot interfere)")
        return finish(summary)
    }

    /// RFC 5780 §4.4: asked to answer from the other address and port, then from the other port
    /// only; what comes back tells which senders the relay lets in.
    private func filtering(
        primary: IPEndpoint,
        label: String,
        _ evidence: inout [String],
        _ binding: (SOCKSAddress, Bool, Bool) async throws(EngineError) -> STUNReply?
    ) async throws(EngineError) -> NATBehaviour {
        if let r = try await binding(.ip(primary), true, true) {
            evidence.append("filtering \(label), test II: change IP and port: answered" + Self.origin(r))
            return .endpointIndependent
        }
        evidence.append("filtering \(label), test II: change IP and port: no answer")
        if let r = try await binding(.ip(primary), false, true) {
            evidence.append("filtering \(label), test III: change port: answered" + Self.origin(r))
            return .addressDependent
        }
        evidence.append("filtering \(label), test III: change port: no answer")
        return .addressAndPortDependent
    }

    struct STUNReply {
        var response: STUNResponse
        var header: SOCKSAddress
    }

    private func binding(
        _ id: AssociationID,
        to server: SOCKSAddress,
        changeIP: Bool,
        changePort: Bool,
        retransmission: STUNRetransmission
    ) async throws(EngineError) -> STUNReply? {
        let request = STUNBindingRequest.random(changeIP: changeIP, changePort: changePort)
        let schedule = retransmission.schedule
        guard
            let reply = try await exchange(
                id,
                to: server,
                request: request.encoded(),
                sendAt: schedule.sends,
                giveUpAt: schedule.giveUp,
                accepts: { request.isTransaction(of: $0) }
            ),
            let response = try? STUNResponse.parse(reply.payload), response.problem(answering: request) == nil
        else { return nil }
        return STUNReply(response: response, header: reply.from)
    }

    private static func origin(_ r: STUNReply) -> String {
        r.response.responseOrigin.map { ", from \($0)" } ?? ", from \(r.header) (no RESPONSE-ORIGIN)"
    }

    private static func noteLabelling(_ r: STUNReply, _ evidence: inout [String]) {
        guard let origin = r.response.responseOrigin, let header = r.header.endpoint, "\(header)" != "\(origin)" else {
            return
        }
        evidence.append(
            "the relay labels the reply \(header), the server sent it from \(origin): RESPONSE-ORIGIN is trusted"
        )
    }
}
