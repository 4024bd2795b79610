#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The catalogue's words for each errno the library can set.
extension ErrorCatalogue {
    struct ErrnoEntry {
        var value: Int32
        var name: String
        var summary: String
        var sentence: String
        var hint: String?
    }

    /// Every errno the library can set, in words for someone debugging a proxy.
    static let errnoEntries: [ErrnoEntry] = [
        ErrnoEntry(
            value: ECONNREFUSED,
            name: "ECONNREFUSED",
            summary: "connection refused",
            sentence: "Nothing accepted the connection: no process listens on that address and port.",
            hint: "Is the SOCKS server running, on this port?"
        ),
        ErrnoEntry(
            value: ETIMEDOUT,
            name: "ETIMEDOUT",
            summary: "timed out",
            sentence: "The peer did not answer in time.",
            hint: "Is the server overloaded, or is something in between dropping packets? The C API waits "
                + "\(defaultHandshakeTimeoutMilliseconds / 1000) s per handshake message unless the socket "
                + "has SO_RCVTIMEO."
        ),
        ErrnoEntry(
            value: ENETUNREACH,
            name: "ENETUNREACH",
            summary: "network unreachable",
            sentence: "There is no route to that network.",
            hint: nil
        ),
        ErrnoEntry(
            value: EHOSTUNREACH,
            name: "EHOSTUNREACH",
            summary: "host unreachable",
            sentence: "The host cannot be reached.",
            hint: nil
        ),
        ErrnoEntry(
            value: ECONNRESET,
            name: "ECONNRESET",
            summary: "connection reset",
            sentence: "The peer closed or reset the connection.",
            hint: nil
        ),
        ErrnoEntry(
            value: EPIPE,
            name: "EPIPE",
            summary: "broken pipe",
            sentence: "The peer closed the connection while data was being sent.",
            hint: nil
        ),
        ErrnoEntry(
            value: EPROTO,
            name: "EPROTO",
            summary: "protocol error",
            sentence: "The peer broke the protocol.",
            hint: nil
        ),
        ErrnoEntry(
            value: EACCES,
            name: "EACCES",
            summary: "access denied",
            sentence: "Permission was refused.",
            hint: nil
        ),
        ErrnoEntry(
            value: EOPNOTSUPP,
            name: "EOPNOTSUPP",
            summary: "operation not supported",
            sentence: "The operation is not supported.",
            hint: nil
        ),
        ErrnoEntry(
            value: EAFNOSUPPORT,
            name: "EAFNOSUPPORT",
            summary: "address family not supported",
            sentence:
                "The address family does not fit: the address is neither IPv4 nor IPv6, or differs from the "
                + "socket's family.",
            hint: nil
        ),
        ErrnoEntry(
            value: EINVAL,
            name: "EINVAL",
            summary: "invalid argument",
            sentence:
                "An argument is invalid: a NULL or too short address, a length that does not match the family, "
                + "or a socket that is not SOCK_STREAM.",
            hint: nil
        ),
        ErrnoEntry(
            value: EFAULT,
            name: "EFAULT",
            summary: "bad address",
            sentence: "A pointer argument is NULL or invalid.",
            hint: nil
        ),
        ErrnoEntry(
            value: EBADF,
            name: "EBADF",
            summary: "bad file descriptor",
            sentence: "The socket is not an open file descriptor.",
            hint: nil
        ),
        ErrnoEntry(
            value: ENOTSOCK,
            name: "ENOTSOCK",
            summary: "not a socket",
            sentence: "The descriptor is not a socket.",
            hint: nil
        ),
        ErrnoEntry(
            value: EISCONN,
            name: "EISCONN",
            summary: "already connected",
            sentence: "The socket is already connected.",
            hint: "Pass a fresh, unconnected SOCK_STREAM socket: the library connects it."
        ),
        ErrnoEntry(
            value: ENOTCONN,
            name: "ENOTCONN",
            summary: "not connected",
            sentence: "The socket is not connected.",
            hint: nil
        ),
        ErrnoEntry(
            value: EINPROGRESS,
            name: "EINPROGRESS",
            summary: "connect in progress",
            sentence: "The socket is non-blocking and the connection is still being made.",
            hint: "The library's calls need a blocking socket."
        ),
        ErrnoEntry(
            value: EALREADY,
            name: "EALREADY",
            summary: "connect already in progress",
            sentence: "A connection attempt is already in progress on the socket.",
            hint: nil
        ),
        ErrnoEntry(
            value: EADDRINUSE,
            name: "EADDRINUSE",
            summary: "address in use",
            sentence: "The local address is already in use.",
            hint: nil
        ),
        ErrnoEntry(
            value: EADDRNOTAVAIL,
            name: "EADDRNOTAVAIL",
            summary: "address not available",
            sentence: "The address is not available on this machine.",
            hint: nil
        ),
        ErrnoEntry(
            value: ENETDOWN,
            name: "ENETDOWN",
            summary: "network down",
            sentence: "The network is down.",
            hint: nil
        ),
        ErrnoEntry(
            value: ENOSPC,
            name: "ENOSPC",
            summary: "no space",
            sentence: "The system ran out of a resource.",
            hint: nil
        ),
        ErrnoEntry(
            value: ENOBUFS,
            name: "ENOBUFS",
            summary: "no buffer space",
            sentence: "The system ran out of socket buffers.",
            hint: nil
        ),
        ErrnoEntry(
            value: EMFILE,
            name: "EMFILE",
            summary: "too many open files",
            sentence: "This process holds as many file descriptors as its limit allows (a socket is one).",
            hint: "Raise the limit (ulimit -n) or close some associations or connections."
        ),
        ErrnoEntry(
            value: ENFILE,
            name: "ENFILE",
            summary: "system file table full",
            sentence: "The system as a whole has no file descriptor left.",
            hint: nil
        ),
        ErrnoEntry(
            value: ENOMEM,
            name: "ENOMEM",
            summary: "no room",
            sentence: "Out of memory, or the buffer given is too small for the address.",
            hint: nil
        ),
        ErrnoEntry(
            value: EMSGSIZE,
            name: "EMSGSIZE",
            summary: "message too long",
            sentence:
                "The datagram with its SOCKS header is larger than UDP allows (65,507 bytes over IPv4, 65,527 "
                + "over IPv6).",
            hint: nil
        ),
        ErrnoEntry(
            value: EAGAIN,
            name: "EAGAIN",
            summary: "would block / timed out",
            sentence: "Nothing arrived: the socket is non-blocking or its receive timeout expired.",
            hint: nil
        ),
        ErrnoEntry(
            value: EINTR,
            name: "EINTR",
            summary: "interrupted",
            sentence: "A signal interrupted the call.",
            hint: nil
        ),
        ErrnoEntry(
            value: ENOENT,
            name: "ENOENT",
            summary: "no such file",
            sentence: "The file does not exist.",
            hint: nil
        ),
        ErrnoEntry(
            value: EPERM,
            name: "EPERM",
            summary: "operation not permitted",
            sentence: "The operation is not permitted.",
            hint: nil
        ),
    ]
}
