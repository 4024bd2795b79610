import Foundation

@testable import Socks5

/// A client's data socket and a local UDP socket playing its relay, for the datagram tests: the
/// played relay sends what a real one does not (fragments, cut headers, strangers). A suite
/// conforms by holding the two sockets, made per test:
///
///     let client = TestSockets.datagram(.ipv4, receiveTimeoutMilliseconds: 2000)
///     let relay = TestSockets.datagram(.ipv4)
protocol PlayedRelay {
    var client: Int32 { get }
    var relay: Int32 { get }
}

extension PlayedRelay {
    var relayEndpoint: IPEndpoint { TestSockets.localEndpoint(relay)! }
    var clientEndpoint: IPEndpoint { TestSockets.localEndpoint(client)! }

    /// `bytes` to the client: from the relay, or from `fd` (a stranger).
    func relaySends(_ bytes: [UInt8], from fd: Int32? = nil) {
        _ = clientEndpoint.withSockaddr { sendto(fd ?? relay, bytes, bytes.count, 0, $0, $1) }
    }

    /// Sends `datagrams` from another thread, the first `delay` from now and then `spacing`
    /// apart. Wait on what it returns before the sockets close: the thread sends to the client's
    /// endpoint as it is now, never to a later test's socket that took the same descriptor.
    func relaySendsFromAnotherThread(
        _ datagrams: [[UInt8]],
        after delay: Duration,
        spacedBy spacing: Duration = .zero
    ) -> DispatchSemaphore {
        let done = DispatchSemaphore(value: 0)
        let (from, to) = (relay, clientEndpoint)
        let (first, gap) = (Self.seconds(delay), Self.seconds(spacing))
        Thread {
            Thread.sleep(forTimeInterval: first)
            for bytes in datagrams {
                _ = to.withSockaddr { sendto(from, bytes, bytes.count, 0, $0, $1) }
                Thread.sleep(forTimeInterval: gap)
            }
            done.signal()
        }.start()
        return done
    }

    private static func seconds(_ d: Duration) -> TimeInterval {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// A datagram as a relay hands it over: the header of a reply from 192.0.2.7:53, then `payload`.
    func datagram(_ payload: [UInt8], fragment: UInt8 = 0) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: 16)
        let n = header.withUnsafeMutableBytes {
            UDPDatagramHeader(fragment: fragment, address: .ip(IPEndpoint("192.0.2.7:53")!)).write(into: $0)
        }
        return Array(header[0..<n]) + payload
    }

    func datagram(_ payload: String, fragment: UInt8 = 0) -> [UInt8] {
        datagram(Array(payload.utf8), fragment: fragment)
    }

    /// Closes both sockets, and any more a test made.
    func closeSockets(_ more: Int32...) {
        for fd in [client, relay] + more { close(fd) }
    }
}
