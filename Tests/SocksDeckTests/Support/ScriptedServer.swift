import Foundation
import Socks5

/// A SOCKS5 server that follows a script, to produce what real servers rarely do on demand:
/// truncated, malformed and slow replies, silence, resets. It complements Dante; it does not
/// replace it. Listens on 127.0.0.1 (or ::1), serves one connection on a thread.
final class ScriptedServer: @unchecked Sendable {
    enum Step {
        /// Read exactly this many bytes (the client's message); recorded in `received`.
        case expect(Int)
        case send([UInt8])
        /// One byte per write, with a pause between.
        case sendSlowly([UInt8])
        /// Keep the connection open and say nothing for this long.
        case silent(seconds: Double)
        /// Close with a RST (SO_LINGER 0).
        case reset
    }

    let endpoint: IPEndpoint
    private let listener: Int32
    private let lock = NSLock()
    private var _received: [UInt8] = []
    private let done = DispatchSemaphore(value: 0)

    /// All bytes the client sent.
    var received: [UInt8] { lock.withLock { _received } }

    init(_ family: AddressFamily = .ipv4, script: [Step]) {
        let fd = socket(family.rawFamily, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        _ = IPEndpoint.loopback(family, 0).withSockaddr { bind(fd, $0, $1) }
        listen(fd, 4)
        listener = fd
        endpoint = TestSockets.localEndpoint(fd)!
        Thread { [self] in
            serve(script)
            done.signal()
        }.start()
    }

    private func serve(_ script: [Step]) {
        var pfd = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, 10_000) == 1 else { return }
        let fd = accept(listener, nil, nil)
        guard fd >= 0 else { return }
        var closeNormally = true
        defer { if closeNormally { close(fd) } }
        TestSockets.setReceiveTimeout(fd, milliseconds: 10_000)
        for step in script {
            switch step {
            case .expect(let n):
                var buffer = [UInt8](repeating: 0, count: n)
                var got = 0
                while got < n {
                    let r = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, n - got, 0) }
                    if r <= 0 { return }
                    got += r
                }
                lock.withLock { _received += buffer }
            case .send(let bytes):
                _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            case .sendSlowly(let bytes):
                for var b in bytes {
                    _ = send(fd, &b, 1, Int32(MSG_NOSIGNAL))
                    usleep(2_000)
                }
            case .silent(let seconds):
                var wait = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                _ = poll(&wait, 1, Int32(seconds * 1000))
            case .reset:
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                close(fd)
                closeNormally = false
                return
            }
        }
    }

    /// Waits (bounded) for the script to end.
    func finish() {
        _ = done.wait(timeout: .now() + 15)
    }

    deinit {
        close(listener)
    }
}
