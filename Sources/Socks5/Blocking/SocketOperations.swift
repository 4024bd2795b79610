#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The handshake's bound on each message from the server when the caller set no SO_RCVTIMEO /
/// SO_SNDTIMEO (SOCKS5_DEFAULT_TIMEOUT_MS in socks5.h). Ten seconds: Dante's own negotiation
/// timeout, and long enough for a server under load.
public let defaultHandshakeTimeoutMilliseconds: Int32 = 10_000

/// Thin wrappers over the system calls the blocking layer makes, each turning a failure into a
/// SOCKS5Error that carries errno, the way connect(2) reports it.
public enum SocketOperations {
    /// The socket's SOCK_* type; EBADF / ENOTSOCK come from getsockopt itself.
    static func socketType(_ fd: Int32) throws(SOCKS5Error) -> Int32 {
        try intOption(fd, SO_TYPE, "getsockopt(SO_TYPE)")
    }

    static func socketFamily(_ fd: Int32) throws(SOCKS5Error) -> Int32 {
        try intOption(fd, SO_DOMAIN, "getsockopt(SO_DOMAIN)")
    }

    private static func intOption(_ fd: Int32, _ name: Int32, _ what: String) throws(SOCKS5Error) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, name, &value, &length) == 0 else { throw .system(errno, what) }
        return value
    }

    /// Checks that `fd` is a SOCK_STREAM socket of the family of `server`: ENOTSOCK/EBADF from
    /// the kernel, EINVAL for another socket type, EAFNOSUPPORT for a family mismatch.
    static func checkStreamSocket(_ fd: Int32, for server: IPEndpoint) throws(SOCKS5Error) {
        let type = try socketType(fd)
        guard type == Int32(SOCK_STREAM.rawValue) else {
            throw .system(EINVAL, "the control socket must be SOCK_STREAM")
        }
        let family = try socketFamily(fd)
        guard family == server.family.rawFamily else {
            throw .system(EAFNOSUPPORT, "the socket's family differs from the server address's (\(server.family))")
        }
    }

    /// connect(2), finishing an interrupted connect the way the kernel expects (wait for
    /// writability, then read SO_ERROR) instead of failing with EINTR.
    public static func connect(_ fd: Int32, to server: IPEndpoint) throws(SOCKS5Error) {
        let rc = server.withSockaddr { address, length in Glibc.connect(fd, address, length) }
        if rc == 0 { return }
        let error = errno
        guard error == EINTR else { throw .system(error, "connect to \(server)") }
        var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        while poll(&pfd, 1, -1) < 0 && errno == EINTR {}
        var soError: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
        if soError != 0 { throw .system(soError, "connect to \(server)") }
    }

    /// The wait bound for one direction: the socket's SO_RCVTIMEO/SO_SNDTIMEO when set, else the
    /// default. In milliseconds.
    static func timeoutMilliseconds(_ fd: Int32, option: Int32, default fallback: Int32) -> Int32 {
        var tv = timeval()
        var length = socklen_t(MemoryLayout<timeval>.size)
        guard getsockopt(fd, SOL_SOCKET, option, &tv, &length) == 0 else { return fallback }
        let ms = Int(tv.tv_sec) * 1000 + Int(tv.tv_usec) / 1000
        if ms == 0 { return tv.tv_usec > 0 ? 1 : fallback }
        return Int32(clamping: ms)
    }

    static func monotonicMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// Waits until `fd` is ready for `events` or the deadline passes (ETIMEDOUT).
    static func wait(_ fd: Int32, for events: Int32, until deadline: Int64) throws(SOCKS5Error) {
        var pfd = pollfd(fd: fd, events: Int16(events), revents: 0)
        while true {
            let left = deadline - monotonicMilliseconds()
            guard left > 0 else { throw .system(ETIMEDOUT, "the SOCKS server did not answer in time") }
            let rc = poll(&pfd, 1, Int32(clamping: left))
            if rc > 0 { return }
            if rc < 0 && errno != EINTR { throw .system(errno, "poll") }
        }
    }

    /// Writes all of `bytes` before the deadline. The write is tried first and waited for only
    /// when the socket is full: a handshake message nearly always fits, and a poll(2) that cannot
    /// block is a system call for nothing.
    static func sendAll(_ fd: Int32, _ bytes: [UInt8], until deadline: Int64) throws(SOCKS5Error) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { b in
                Glibc.send(fd, b.baseAddress! + sent, b.count - sent, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            }
            if n < 0 {
                let e = errno
                if e == EINTR { continue }
                if e == EAGAIN || e == EWOULDBLOCK {
                    try wait(fd, for: POLLOUT, until: deadline)
                    continue
                }
                throw .system(e, "send to the SOCKS server")
            }
            sent += n
        }
    }

    /// Reads at most `count` bytes (at least one) before the deadline; an empty result is EOF.
    /// With `readFirst` the read is tried before waiting: right for the rest of a message whose
    /// start has come (it came in the same segment), wrong for a reply just asked for.
    static func receiveSome(
        _ fd: Int32,
        count: Int,
        until deadline: Int64,
        readFirst: Bool = false
    ) throws(SOCKS5Error) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var mayRead = readFirst
        while true {
            if !mayRead { try wait(fd, for: POLLIN, until: deadline) }
            mayRead = false
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, count, Int32(MSG_DONTWAIT)) }
            if n < 0 {
                let e = errno
                if e == EINTR || e == EAGAIN || e == EWOULDBLOCK { continue }
                throw .system(e, "receive from the SOCKS server")
            }
            buffer.removeLast(count - n)
            return buffer
        }
    }
}
