import Socks5

#if canImport(Glibc)
import Glibc
#endif

/// What SocksDeck adds to the library's hints. The library speaks to any caller (C programs read
/// its words through socks5_strerror), so it names none of SocksDeck's options or commands; a
/// failure put in words for SocksDeck's own front ends (AssociationFailure) gets them from here.
enum SocksDeckHint {
    /// The library's hint for `error`, followed by what to do about it in SocksDeck.
    static func hint(for error: SOCKS5Error, library: String?) -> String? {
        guard let ours = addition(for: error) else { return library }
        return library.map { "\($0) \(ours)" } ?? ours
    }

    private static func addition(for error: SOCKS5Error) -> String? {
        switch error.code {
        case .boundAddressFamily?:
            "In SocksDeck: --family 4 or 6."
        case .configurationFile?:
            "`socksdeck getserv ADDRESS` shows the file, the line and what is wrong with it."
        case nil where error.systemError == ETIMEDOUT:
            "SocksDeck waits the server's connect_timeout_ms and handshake_timeout_ms (configuration file)."
        default:
            nil
        }
    }
}
