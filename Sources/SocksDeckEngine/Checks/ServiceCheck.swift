import Foundation
import Socks5
import UDPChecks

#if canImport(Glibc)
import Glibc
#endif

/// A check of an association's data plane with one of the internet's own UDP services: a DNS
/// query, an NTP request, a STUN Binding. Each sends the codec's bytes through the association
/// (`SessionEngine.exchange`), matches the reply by the protocol's own id, and judges it.
package enum ServiceCheck: Sendable, Equatable {
    case dns(resolver: SOCKSAddress, name: String, type: DNSRecordType)
    case ntp(server: SOCKSAddress)
    case stun(server: SOCKSAddress)
    /// The relay's NAT behaviour (RFC 5780), with a STUN server that gives OTHER-ADDRESS.
    case nat(server: SOCKSAddress)
    /// A 1,200-byte QUIC Initial of a version no server knows: a QUIC server answers with
    /// Version Negotiation (RFC 9000 §6), which proves QUIC-sized datagrams pass both ways.
    case quic(server: SOCKSAddress)

    package var kind: CheckKind {
        switch self {
        case .dns: .dns
        case .ntp: .ntp
        case .stun: .stun
        case .nat: .nat
        case .quic: .quic
        }
    }

    package var target: SOCKSAddress {
        switch self {
        case .dns(let r, _, _): r
        case .ntp(let s), .stun(let s), .nat(let s), .quic(let s): s
        }
    }
}

extension SessionEngine {
    /// Runs `check` through association `id`; bounded: DNS, NTP and QUIC wait `timeout`
    /// after one resend halfway, STUN follows its retransmission schedule.
    /// `natRetransmission`: how long the NAT test waits for replies that may never come (tests on
    /// loopback pass a short one). The NAT test runs in a fresh association of its own, or, with
    /// `natReusesUnused`, in `id` itself when nothing has been sent through it yet.
    package func run(
        _ check: ServiceCheck,
        through id: AssociationID,
        timeout: Duration = .seconds(2),
        natRetransmission: STUNRetransmission = SessionEngine.natRetransmission,
        natReusesUnused: Bool = false
    ) async throws(EngineError) -> CheckResult {
        let result: CheckResult
        switch check {
        case .dns(let resolver, let name, let type):
            result = try await dns(id, resolver, name, type, timeout)
        case .ntp(let server): result = try await ntp(id, server, timeout)
        case .stun(let server): result = try await stun(id, server)
        case .quic(let server): result = try await quic(id, server, timeout)
        case .nat(let server):
            result = try await natBehaviourInFreshAssociation(
                like: id,
                server: server,
                retransmission: natRetransmission,
                reuseIfUnused: natReusesUnused
            )
        }
        // In the event log too, where the TUI's Log pane and `watch` read what happened.
        let line = "check \(result.check) \(result.target): \(result.passed ? "passed" : "failed"): \(result.summary)"
        await log(result.passed ? .info : .warning, id, line)
        return result
    }

    /// Whole milliseconds, for the words ("within 2000 ms").
    static func wholeMilliseconds(_ d: Duration) -> Int { Int(d.milliseconds.rounded()) }

    func noAnswer(_ check: CheckKind, _ target: SOCKSAddress, sends: Int, waited: Duration) -> CheckResult {
        CheckResult(
            check: check,
            target: target,
            finding: .noAnswer,
            summary: "no answer",
            evidence: [
                "\(sends) request(s) to \(target), nothing came back within \(Self.wholeMilliseconds(waited)) ms"
            ],
            sends: sends
        )
    }

    /// An answer came back, but not one that passes: garbled, not ours, or refused.
    func unusable(
        _ check: CheckKind,
        _ target: SOCKSAddress,
        _ summary: String,
        _ evidence: [String],
        _ rtt: Duration,
        _ sends: Int
    ) -> CheckResult {
        CheckResult(
            check: check,
            target: target,
            finding: .unusable,
            summary: summary,
            evidence: evidence,
            roundTrip: rtt,
            sends: sends
        )
    }

    private func dns(
        _ id: AssociationID,
        _ resolver: SOCKSAddress,
        _ name: String,
        _ type: DNSRecordType,
        _ timeout: Duration
    ) async throws(EngineError) -> CheckResult {
        let query = DNSQuery(id: UInt16.random(in: 1...UInt16.max), name: name, type: type)
        let bytes: [UInt8]
        do { bytes = try query.encoded() } catch { throw .invalidArgument("--name: \(error)") }
        let qid = query.id
        let reply = try await exchange(
            id,
            to: resolver,
            request: bytes,
            sendAt: [.zero, timeout / 2],
            giveUpAt: timeout,
            accepts: { $0.count >= 2 && UInt16($0[0]) << 8 | UInt16($0[1]) == qid }
        )
        guard let reply else { return noAnswer(.dns, resolver, sends: 2, waited: timeout) }
        let rtt = reply.roundTrip
        var evidence = [
            "query \(name) \(type), id \(qid), \(bytes.count) bytes to \(resolver); "
                + "\(reply.payload.count)-byte reply from \(reply.from) in "
                + String(format: "%.2f ms", rtt.milliseconds)
        ]
        let response: DNSResponse
        do { response = try DNSResponse.parse(reply.payload) } catch {
            return unusable(.dns, resolver, "a reply that is not DNS: \(error)", evidence, rtt, reply.sends)
        }
        if let problem = response.problem(answering: query) {
            return unusable(.dns, resolver, "not the answer: \(problem)", evidence, rtt, reply.sends)
        }
        let records = response.answers.map { "\($0.type) \(DNSCheckWords.value($0)) (TTL \($0.ttl))" }
        var summary = "\(response.responseCode)"
        if response.responseCode == .noError {
            summary += records.isEmpty ? ", no record of that type (NODATA)" : ": " + records.joined(separator: ", ")
        }
        if response.truncated { summary += "; TC: the answer was cut to fit (a resolver would retry over TCP)" }
        evidence.append(
            "flags: \(response.authoritative ? "aa " : "")\(response.recursionAvailable ? "ra " : "")"
                + "\(response.truncated ? "tc " : "")rcode \(response.responseCode); "
                + "\(response.answers.count) answer(s), "
                + "\(response.authorityCount) authority, \(response.additionalCount) additional"
        )
        if !response.responseCode.isAnswer {
            evidence.append("the resolver answered but did not resolve: the relay carried the query and the reply")
        }
        return CheckResult(
            check: .dns,
            target: resolver,
            finding: .dns(response),
            summary: summary,
            evidence: evidence,
            roundTrip: rtt,
            sends: reply.sends
        )
    }

    private func ntp(
        _ id: AssociationID,
        _ server: SOCKSAddress,
        _ timeout: Duration
    ) async throws(EngineError) -> CheckResult {
        let request = NTPRequest(transmit: NTPTimestamp(unixTime: Date().timeIntervalSince1970))
        let bytes = request.encoded()
        let origin = Array(bytes[40..<48])
        let reply = try await exchange(
            id,
            to: server,
            request: bytes,
            sendAt: [.zero, timeout / 2],
            giveUpAt: timeout,
            // A reply carries our transmit timestamp as its originate; our own request coming back
            // is taken too, so that an echo is said to be one rather than "nothing came back".
            accepts: { $0.count >= 48 && (Array($0[24..<32]) == origin || $0 == bytes) }
        )
        guard let reply else { return noAnswer(.ntp, server, sends: 2, waited: timeout) }
        let rtt = reply.roundTrip
        var evidence = [
            "48-byte client request to \(server); \(reply.payload.count)-byte reply from \(reply.from) in "
                + String(format: "%.2f ms", rtt.milliseconds)
        ]
        let response: NTPResponse
        do { response = try NTPResponse.parse(reply.payload) } catch {
            return unusable(.ntp, server, "not NTP: \(error)", evidence, rtt, reply.sends)
        }
        if let problem = response.problem(answering: request) {
            return unusable(.ntp, server, problem, evidence, rtt, reply.sends)
        }
        // T1 and T4 as the engine's loop took them beside the socket; the transmit timestamp in the
        // request only identifies it (a resend carries the same one).
        let (offset, delay) = response.offsetAndDelay(
            sent: NTPTimestamp(unixTime: reply.sentAt.timeIntervalSince1970),
            arrived: NTPTimestamp(unixTime: reply.arrivedAt.timeIntervalSince1970)
        )
        evidence.append(
            "version \(response.version), mode \(response.mode), leap \(response.leap), poll \(response.poll), "
                + "precision 2^\(response.precision) s; originate = our transmit timestamp"
        )
        let summary = String(
            format: "stratum %d, reference %@, offset %+.3f ms, delay %.3f ms",
            Int(response.stratum),
            response.referenceText,
            offset * 1000,
            delay * 1000
        )
        return CheckResult(
            check: .ntp,
            target: server,
            finding: .ntp(stratum: response.stratum, offset: .seconds(offset), delay: .seconds(delay)),
            summary: summary,
            evidence: evidence,
            roundTrip: rtt,
            sends: reply.sends
        )
    }

    private func stun(_ id: AssociationID, _ server: SOCKSAddress) async throws(EngineError) -> CheckResult {
        let request = STUNBindingRequest.random()
        let schedule = STUNRetransmission().schedule
        let reply = try await exchange(
            id,
            to: server,
            request: request.encoded(),
            sendAt: schedule.sends,
            giveUpAt: schedule.giveUp,
            accepts: { request.isTransaction(of: $0) }
        )
        guard let reply else { return noAnswer(.stun, server, sends: schedule.sends.count, waited: schedule.giveUp) }
        let rtt = reply.roundTrip
        var evidence = [
            "Binding request to \(server) (sent \(reply.sends) time(s), RFC 8489 retransmission); "
                + "\(reply.payload.count)-byte reply from \(reply.from) in "
                + String(format: "%.2f ms", rtt.milliseconds)
        ]
        let response: STUNResponse
        do { response = try STUNResponse.parse(reply.payload) } catch {
            return unusable(.stun, server, "\(error)", evidence, rtt, reply.sends)
        }
        if let problem = response.problem(answering: request) {
            return unusable(.stun, server, problem, evidence, rtt, reply.sends)
        }
        let mapped = response.mapped!
        var summary = "mapped \(mapped) (the relay as the server sees it)"
        if response.xorMappedAddress == nil {
            summary += " from MAPPED-ADDRESS (no XOR-MAPPED-ADDRESS: an RFC 3489 server)"
        }
        if let x = response.xorMappedAddress, let m = response.mappedAddress, x != m {
            evidence.append(
                "MAPPED-ADDRESS \(m) differs from XOR-MAPPED-ADDRESS \(x): something rewrote it on the way (an ALG)"
            )
        }
        if let origin = response.responseOrigin {
            evidence.append("RESPONSE-ORIGIN \(origin)")
            if let header = reply.from.endpoint, "\(header)" != "\(origin)" {
                evidence.append(
                    "the relay's UDP header names \(header) as the sender, the server says it answered from \(origin): "
                        + "this relay labels replies with the destination it was sent to, not the real sender"
                )
            }
        }
        if let other = response.alternate {
            evidence.append("OTHER-ADDRESS \(other): the server can test NAT behaviour (RFC 5780)")
        } else {
            evidence.append("no OTHER-ADDRESS: this server cannot test mapping and filtering behaviour (RFC 5780)")
        }
        if let software = response.software { evidence.append("SOFTWARE \(software)") }
        return CheckResult(
            check: .stun,
            target: server,
            finding: .stun(mapped: mapped),
            summary: summary,
            evidence: evidence,
            roundTrip: rtt,
            sends: reply.sends
        )
    }
}

enum DNSCheckWords {
    static func value(_ r: DNSRecord) -> String {
        switch r.data {
        case .ipv4(let b): b.map(String.init).joined(separator: ".")
        case .ipv6: String(r.description.split(separator: " ").last ?? "")
        case .name(let n): n
        case .text(let t): t.map { "\"\($0.count > 40 ? String($0.prefix(40)) + "…" : $0)\"" }.joined(separator: " ")
        case .mailExchange(let p, let n): "\(p) \(n)"
        case .other(let b): "\(b.count) bytes"
        }
    }
}
