import Dispatch
import Foundation
import Socks5

#if canImport(Glibc)
import Glibc
#endif

/// Whether anything answers at a server's rendezvous, asked when datagrams through it drew no
/// reply: a fresh association through the library (its data socket declared as the server's
/// `declare` says), with the kernel asked to queue the socket's ICMP errors, and one datagram to
/// `target`. The engine's own data sockets cannot tell: SwiftNIO ends a datagram channel on the
/// error an ICMP message leaves on its socket, so the engine never asks for them.
package enum RendezvousCheck {
    package enum Outcome: Sendable, Equatable {
        /// A datagram came back through the relay: something listens there.
        case answered(rendezvous: IPEndpoint)
        /// The datagram to the rendezvous drew an ICMP error.
        case unreachable(ICMPError, rendezvous: IPEndpoint)
        /// Nothing came back, not even an ICMP error, within the time.
        case silent(rendezvous: IPEndpoint)
        /// The fresh association could not be opened.
        case notOpened(String)
    }

    /// Runs off the caller's thread (the library blocks); bounded by the server's handshake
    /// timeout and `wait`.
    package static func run(
        _ resolved: ResolvedServer,
        target: SOCKSAddress,
        wait: Duration = .seconds(1)
    ) async -> Outcome {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: runBlocking(resolved, target, wait)) }
        }
    }

    private static func runBlocking(_ resolved: ResolvedServer, _ target: SOCKSAddress, _ wait: Duration) -> Outcome {
        let server = resolved.server
        let association: UDPAssociation
        do {
            association = try UDPAssociation.open(
                server: resolved.endpoint,
                options: SOCKS5Options(
                    credentials: server.credentials,
                    timeoutMilliseconds: Int32(clamping: max(1, Int(server.handshakeTimeout.milliseconds.rounded())))
                ),
                declare: server.declare,
                serverAddresses: resolved.otherAddresses
            )
        } catch {
            return .notOpened(AssociationFailure(error).description)
        }
        ICMPErrorQueue.enable(association.dataSocket)
        try? association.send(Array("socksdeck rendezvous check".utf8), to: target)
        let outcome = awaitAnswer(
            socket: association.dataSocket,
            relay: association.relay,
            rendezvous: association.rendezvous.asUsed,
            wait: wait
        )
        association.close()
        return outcome
    }

    /// A datagram through the relay, or an ICMP error queued for the socket, whichever comes first.
    private static func awaitAnswer(
        socket fd: Int32,
        relay: IPEndpoint,
        rendezvous: IPEndpoint,
        wait: Duration
    )
        -> Outcome
    {
        var buffer = [UInt8](repeating: 0, count: 2048)
        let deadline = ContinuousClock.now + wait
        while ContinuousClock.now < deadline {
            if let error = ICMPErrorQueue.next(fd) { return .unreachable(error, rendezvous: rendezvous) }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&descriptor, 1, 50)
            let received = buffer.withUnsafeMutableBytes { b in
                try? DatagramIO.receive(socket: fd, into: b, relay: relay, flags: Int32(MSG_DONTWAIT))
            }
            if received != nil { return .answered(rendezvous: rendezvous) }
        }
        return ICMPErrorQueue.next(fd).map { .unreachable($0, rendezvous: rendezvous) }
            ?? .silent(rendezvous: rendezvous)
    }

    /// What an ICMP error at the rendezvous means, in words true of any server: a relay that
    /// passes its target's ICMP errors on (Dante, as root) draws the same message from a
    /// rendezvous that works.
    package static func meaning(_ error: ICMPError, rendezvous: IPEndpoint, target: SOCKSAddress) -> String {
        let icmp = "ICMP\(error.isICMPv6 ? "v6" : "") \(error.kind)" + (error.sender.map { " from \($0)" } ?? "")
        let what =
            error.kind == .portUnreachable
            ? "nothing listens at \(rendezvous)" : "\(rendezvous) cannot be reached"
        return "the datagram to the rendezvous \(rendezvous) drew \(icmp): \(what), or the relay passed on an "
            + "error from the target \(target) (Dante does); if \(target) answers when asked directly, the server's "
            + "reply names the wrong rendezvous"
    }
}
