#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A failure of the SOCKS5 client library: the `S5_*` code (nil when the failure happened below
/// SOCKS, as `socks5_errno` 0 says), the errno the C API sets, and what was going on.
///
/// `description` is the catalogue's sentence followed by the specifics, so printing the error is
/// enough to tell a person what went wrong. It never contains a password: no message holds one.
public struct SOCKS5Error: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: SOCKS5ErrorCode?
    public var systemError: Int32
    /// The REP byte, when the failure is a reply from the server.
    public var replyByte: UInt8?
    /// The command the request carried, when the failure concerns one.
    public var command: Command?
    /// Specifics: which byte was wrong, what the server sent, which call failed.
    public var detail: String?
    /// Where in the handshake it failed, when it failed during one: what the hints are chosen by.
    public var phase: HandshakePhase?
    /// A hint for this failure in particular, from the layer that saw it and knows more than the
    /// catalogue (the timeout it waited, that the socket was a datagram one): shown in place of
    /// the catalogue's general hint.
    public var hint: String?

    public init(
        code: SOCKS5ErrorCode?,
        systemError: Int32? = nil,
        replyByte: UInt8? = nil,
        command: Command? = nil,
        detail: String? = nil
    ) {
        self.code = code
        self.systemError = systemError ?? code?.errnoValue ?? EPROTO
        self.replyByte = replyByte
        self.command = command
        self.detail = detail
    }

    /// A failure below SOCKS: a system call's errno.
    public static func system(_ errnoValue: Int32, _ detail: String? = nil, hint: String? = nil) -> SOCKS5Error {
        var error = SOCKS5Error(code: nil, systemError: errnoValue, detail: detail)
        error.hint = hint
        return error
    }

    /// The value for `socks5_errno`: 0 below SOCKS.
    public var socks5Errno: Int32 { code?.rawValue ?? 0 }

    /// The catalogue's words for this failure.
    public var decoded: DecodedError { ErrorCatalogue.decode(self) }

    public var description: String {
        let d = decoded
        var text = "\(d.name): \(d.sentence)"
        if let detail { text += " (\(detail))" }
        if let hint = d.hint { text += " Hint: \(hint)" }
        return text
    }
}

/// The message of a client handshake being waited for, as `ClientHandshake` reports it.
public enum HandshakePhase: String, Sendable, Hashable, CustomStringConvertible {
    case methodSelection = "method selection"
    case authentication = "username/password reply"
    case reply = "reply"
    case secondBindReply = "second BIND reply"

    public var description: String { rawValue }
}
