import Foundation
import Socks5
import UDPChecks

/// `check --quic`: will HTTP/3 work through this relay? A QUIC Initial must be 1,200 bytes
/// (RFC 9000 §14.1), so a relay that cuts or drops large datagrams breaks QUIC while DNS works.
extension SessionEngine {
    func quic(
        _ id: AssociationID,
        _ server: SOCKSAddress,
        _ timeout: Duration
    ) async throws(EngineError) -> CheckResult {
        let probe = QUICProbe()
        let initial = probe.encoded()
        let reply = try await exchange(
            id,
            to: server,
            request: initial,
            sendAt: [.zero, timeout / 2],
            giveUpAt: timeout,
            accepts: { probe.mayAnswer($0, sent: initial) }
        )
        let version = QUICVersion.hex(probe.version)
        let sent = "\(Self.grouped(initial.count))-byte Initial of reserved version \(version) to \(server)"
        guard let reply else {
            var result = noAnswer(.quic, server, sends: 2, waited: timeout)
            let size = try await datagramSizeEvidence(id, lost: initial.count)
            result.summary = size.summary
            result.evidence =
                ["\(sent), sent twice: nothing came back within \(Self.wholeMilliseconds(timeout)) ms"] + size.evidence
            return result
        }
        let rtt = reply.roundTrip
        let evidence = [
            "\(sent); \(reply.payload.count)-byte reply from \(reply.from) in "
                + String(format: "%.2f ms", rtt.milliseconds)
        ]
        switch probe.interpret(reply.payload, sent: initial) {
        case .versionNegotiation(let vn):
            let names = vn.versions.map(QUICVersion.name)
            let offered = names.filter { !$0.contains("reserved") }
            return CheckResult(
                check: .quic,
                target: server,
                finding: .quic(versions: vn.versions),
                summary: "QUIC answers: offers " + (offered.isEmpty ? names : offered).joined(separator: ", "),
                evidence: evidence + [
                    "Version Negotiation (RFC 9000 §17.2.1) for our connection ids: 1,200-byte datagrams pass this "
                        + "relay to the server, and its answer comes back",
                    "versions offered: " + names.joined(separator: ", "),
                ],
                roundTrip: rtt,
                sends: reply.sends
            )
        case .echo:
            return unusable(
                .quic,
                server,
                "not QUIC: an echo (the \(Self.grouped(initial.count))-byte Initial came back as sent)",
                evidence + ["1,200-byte datagrams pass this relay both ways, but what answers is not a QUIC server"],
                rtt,
                reply.sends
            )
        case .cutEcho(let length):
            return unusable(
                .quic,
                server,
                "QUIC needs 1,200-byte datagrams; this relay cut them to \(Self.grouped(length)) "
                    + "(an echo sent back the rest)",
                evidence + [
                    "the first \(Self.grouped(length)) bytes of the Initial came back: an echo behind a relay that "
                        + "cuts datagrams (a QUIC server drops an Initial under 1,200 bytes)"
                ],
                rtt,
                reply.sends
            )
        case .notQUIC(let why):
            return unusable(.quic, server, "an answer that is not QUIC: \(why)", evidence, rtt, reply.sends)
        }
    }

    /// When nothing QUIC answered: whether the relay carries a 1,200-byte datagram at all, asked
    /// of the server's echo target beside a small one, to tell a size limit from a blocked port.
    private func datagramSizeEvidence(
        _ id: AssociationID,
        lost size: Int
    ) async throws(EngineError) -> (summary: String, evidence: [String]) {
        let echo = (try? await onLoop { core in core.associations[id]?.server.echo }) ?? nil
        guard let echo else {
            return (
                "no answer; a size limit cannot be told from a blocked port without an echo target",
                ["no echo target is configured for this server: give it one (echo = \"HOST:PORT\") to tell them apart"]
            )
        }
        func roundTrip(_ count: Int) async throws(EngineError) -> [UInt8]? {
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255) }
            bytes[0] = 0x5A  // never a QUIC long header: nothing here is taken for a VN
            let sent = bytes
            return try await exchange(
                id,
                to: .ip(echo),
                request: bytes,
                sendAt: [.zero, .milliseconds(500)],
                giveUpAt: .seconds(1),
                accepts: { $0.count >= 8 && $0.count <= sent.count && $0[...] == sent[..<$0.count] }
            )?.payload
        }
        let large = try await roundTrip(size)
        let small = try await roundTrip(64)
        let seen =
            "to the echo target \(echo): a \(Self.grouped(size))-byte datagram "
            + (large.map { $0.count == size ? "came back whole" : "came back cut to \(Self.grouped($0.count)) bytes" }
                ?? "did not come back")
            + ", a 64-byte one " + (small == nil ? "did not" : "did")
        switch (large?.count, small != nil) {
        case (size?, _):
            return (
                "no answer; 1,200-byte datagrams pass (the echo target says so): nothing QUIC answered there",
                [
                    seen,
                    "the relay carries QUIC-sized datagrams: the port is blocked, no QUIC server listens, or the "
                        + "relay cannot reach it",
                ]
            )
        case (let cut?, _):
            return ("QUIC needs 1,200-byte datagrams; this relay cut them to \(Self.grouped(cut))", [seen])
        case (nil, true):
            return (
                "QUIC needs 1,200-byte datagrams; this relay does not carry them (64-byte ones pass)",
                [seen]
            )
        case (nil, false):
            return ("no answer; the echo target did not answer either: nothing passes this relay now", [seen])
        }
    }

    /// 1200 as "1,200": the figures of these sentences, the same in every locale.
    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        let head = digits.count % 3 == 0 ? 3 : digits.count % 3
        var out = String(digits.prefix(head))
        var rest = digits.dropFirst(head)
        while !rest.isEmpty {
            out += "," + rest.prefix(3)
            rest = rest.dropFirst(3)
        }
        return (n < 0 ? "-" : "") + out
    }
}
