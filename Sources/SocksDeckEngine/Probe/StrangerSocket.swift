import Foundation
import Socks5

#if canImport(Glibc)
import Glibc
#endif

/// A socket that is not the association's, for the two relay checks that need one: does the relay
/// answer a datagram from another port of this host (source-port locking), and does it still
/// answer one from the association's port once the association has ended. Blocking (the
/// library's sockets) on a dispatch thread, one datagram and one wait.
enum StrangerSocket {
    /// What a round trip from the stranger found, and the port it was sent from.
    struct Outcome: Sendable {
        var echoed: Bool
        var local: IPEndpoint?
    }

    /// Sends `payload` to `echo` through `relay` from a fresh socket on `port` (0: any free one)
    /// and says whether its echo came back within `wait`.
    static func roundTrip(
        relay: IPEndpoint,
        echo: IPEndpoint,
        payload: [UInt8],
        port: UInt16 = 0,
        wait: Duration
    ) async -> Outcome {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: roundTripBlocking(relay, echo, payload, port, wait))
            }
        }
    }

    private static func roundTripBlocking(
        _ relay: IPEndpoint,
        _ echo: IPEndpoint,
        _ payload: [UInt8],
        _ port: UInt16,
        _ wait: Duration
    ) -> Outcome {
        guard let (fd, local) = try? DataSocket.open(port: port) else { return Outcome(echoed: false, local: nil) }
        defer { close(fd) }
        let relay = DataSocket.address(relay, for: local.family)
        let sent: Void? = payload.withUnsafeBytes {
            try? DatagramIO.send(socket: fd, payload: $0, to: .ip(echo), relay: relay)
        }
        guard sent != nil else { return Outcome(echoed: false, local: local) }
        var buffer = [UInt8](repeating: 0, count: payload.count + 64)
        let deadline = ContinuousClock.now + wait
        while ContinuousClock.now < deadline {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&descriptor, 1, 50)
            let received = buffer.withUnsafeMutableBytes {
                try? DatagramIO.receive(socket: fd, into: $0, relay: relay, flags: Int32(MSG_DONTWAIT))
            }
            if let received, received.length == payload.count, buffer.prefix(payload.count).elementsEqual(payload) {
                return Outcome(echoed: true, local: local)
            }
        }
        return Outcome(echoed: false, local: local)
    }
}
