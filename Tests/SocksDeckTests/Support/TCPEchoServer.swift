import Foundation
import Socks5

/// A loopback TCP target that echoes what one connection sends, for CONNECT tests.
final class TCPEchoServer: @unchecked Sendable {
    let endpoint: IPEndpoint
    private let listener: Int32

    init(_ family: AddressFamily = .ipv4) {
        let fd = socket(family.rawFamily, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        _ = IPEndpoint.loopback(family, 0).withSockaddr { bind(fd, $0, $1) }
        listen(fd, 4)
        listener = fd
        endpoint = TestSockets.localEndpoint(fd)!
        Thread { [fd] in
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 10_000) == 1 else { return }
            let conn = accept(fd, nil, nil)
            guard conn >= 0 else { return }
            defer { close(conn) }
            TestSockets.setReceiveTimeout(conn, milliseconds: 5000)
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = recv(conn, &buffer, buffer.count, 0)
                if n <= 0 { return }
                _ = send(conn, buffer, n, Int32(MSG_NOSIGNAL))
            }
        }.start()
    }

    /// Sends `bytes` on the proxied socket and reads the same number back.
    func echoOnce(through fd: Int32, _ bytes: [UInt8]) -> [UInt8] {
        _ = send(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL))
        TestSockets.setReceiveTimeout(fd, milliseconds: 3000)
        var got: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while got.count < bytes.count {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            got += buffer[0..<n]
        }
        return got
    }

    deinit { close(listener) }
}
