import NIOCore
import NIOPosix
import Socks5

#if canImport(Glibc)
import Glibc
#endif

/// The errno behind a SwiftNIO error, and the catalogue's words for it: the one mapping the
/// engine (a failed connect or bind), the relay (REP for a failed CONNECT) and the CLI (a port
/// that cannot be listened on) all use. NIO's own descriptions ("bind(descriptor:ptr:bytes:):
/// Address already in use (errno: 98)") name its internals, not what the user asked for.
package enum NIOErrorNumber {
    /// EIO when the error carries no errno (NIO's channel errors but the connect timeout).
    package static func of(_ error: Error) -> Int32 {
        if let e = error as? IOError { return e.errnoCode }
        if let e = error as? NIOConnectionError {
            // Happy eyeballs tried every address: the first attempt's errno speaks for them.
            if let first = e.connectionErrors.first?.error { return of(first) }
            if e.dnsAAAAError != nil || e.dnsAError != nil { return EHOSTUNREACH }
        }
        if case ChannelError.connectTimeout = error { return ETIMEDOUT }
        return EIO
    }

    /// "EADDRINUSE: The local address is already in use." for `error`.
    package static func describe(_ error: Error) -> String {
        let d = ErrorCatalogue.decode(errno: of(error))
        return "\(d.name): \(d.sentence)"
    }
}
