import Foundation
import Socks5

/// A UDP echo target on an impaired path (this kernel has no tc netem): it drops every
/// `dropEvery`-th datagram and delays the others by `delayMilliseconds`. Deterministic, so that
/// the expected loss is exact. Loopback only; stops with its owner.
final class ImpairedEchoServer: @unchecked Sendable {
    let endpoint: IPEndpoint
    private let fd: Int32
    private let lock = NSLock()
    private var running = true

    init(dropEvery: Int, delayMilliseconds: Int) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        _ = IPEndpoint.loopback(.ipv4, 0).withSockaddr { bind(fd, $0, $1) }
        self.fd = fd
        endpoint = TestSockets.localEndpoint(fd)!
        TestSockets.setReceiveTimeout(fd, milliseconds: 200)
        Thread { [self, fd] in
            var seen = 0
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while lock.withLock({ running }) {
                var source = sockaddr_storage()
                var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
                let n = buffer.withUnsafeMutableBytes { b in
                    withUnsafeMutablePointer(to: &source) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            recvfrom(fd, b.baseAddress, b.count, 0, $0, &length)
                        }
                    }
                }
                guard n >= 0 else { continue }
                seen += 1
                if seen % dropEvery == 0 { continue }
                let payload = Array(buffer[0..<n])
                let to = source
                let toLength = length
                DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(delayMilliseconds)) {
                    var destination = to
                    _ = payload.withUnsafeBytes { p in
                        withUnsafePointer(to: &destination) {
                            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                                sendto(fd, p.baseAddress, p.count, 0, $0, toLength)
                            }
                        }
                    }
                }
            }
        }.start()
    }

    func stop() {
        lock.withLock { running = false }
        usleep(300_000)
        close(fd)
    }
}
