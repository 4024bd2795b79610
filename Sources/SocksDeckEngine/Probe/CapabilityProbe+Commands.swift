import Foundation
import NIOCore
import Socks5

/// The requests on connections of their own: UDP ASSOCIATE for the other family, CONNECT, BIND.
extension CapabilityProbe {
    /// A handshake on a connection of its own, closed once its reply is in: the reply or the error.
    func request(
        _ command: Command,
        _ address: SOCKSAddress,
        on loop: EventLoop
    ) async -> Result<
        SOCKSReply, SOCKS5Error
    > {
        let stream = stream("\(command) \(address)")
        let credentials = server.credentials
        do {
            let control = try await ControlConnection.open(to: endpoint, on: loop, timeout: step, stream: stream) { _ in
                ClientHandshake(command: command, address: address, credentials: credentials)
            }
            stream?.closed("the probe closed it: the reply is all it needed")
            control.channel.close(promise: nil)
            return .success(control.reply)
        } catch {
            stream?.closed("the probe closed it: \(error.decoded.name)")
            return .failure(error)
        }
    }

    func otherFamily(on loop: EventLoop) async -> ProbeFinding {
        let other: AddressFamily = endpoint.family == .ipv4 ? .ipv6 : .ipv4
        let key = ProbeFinding.Key.udpAssociate(asking: other)
        let title = "UDP ASSOCIATE asking for \(other)"
        let result = await request(.udpAssociate, .unspecified(other), on: loop).flatMap { reply in
            Result { () throws(SOCKS5Error) in try rendezvous(reply.boundAddress) }
        }
        switch result {
        case .success(let r):
            // What the server sent, not what SocksDeck would send to.
            let received = r.receivedFamily
            let asked = received == other
            return ProbeFinding(
                key: key,
                title: title,
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
        case .failure(let error):
            return ProbeFinding(
                key: key,
                title: title,
                verdict: .no,
                value: error.decoded.name,
                evidence: error.description
            )
        }
    }

    func command(_ command: Command, to address: SOCKSAddress, on loop: EventLoop) async -> ProbeFinding {
        let key: ProbeFinding.Key = command == .connect ? .connect : .bind
        switch await request(command, address, on: loop) {
        case .success(let reply):
            return ProbeFinding(
                key: key,
                title: "\(command)",
                verdict: .yes,
                value: "succeeded, BND \(reply.boundAddress)",
                evidence: "\(command) \(address) → REP 00"
            )
        case .failure(let error):
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
}
