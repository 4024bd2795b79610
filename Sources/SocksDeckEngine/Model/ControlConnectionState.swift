import Socks5

/// Where an association's control connection stands. The association lives exactly as long as
/// the control connection (RFC 1928), so this is the association's state too.
package enum ControlConnectionState: Sendable, Equatable, CustomStringConvertible {
    case connecting
    /// Greeting sent, waiting for the method selection.
    case negotiating
    /// RFC 1929 username/password sent.
    case authenticating
    /// UDP ASSOCIATE sent.
    case requesting
    case associated
    /// Ended, with the reason: by the user or the engine at any point, or by the server (EOF or
    /// reset) after it was associated (see `AssociationLifecycle`).
    case closed(reason: String)
    /// Never associated: the decoded failure of the connect or the handshake.
    case failed(AssociationFailure)

    /// The state's name for tables and JSON: "associated", "failed"…
    package var name: String {
        switch self {
        case .connecting: "connecting"
        case .negotiating: "negotiating"
        case .authenticating: "authenticating"
        case .requesting: "requesting"
        case .associated: "associated"
        case .closed: "closed"
        case .failed: "failed"
        }
    }

    package var isFinal: Bool {
        switch self {
        case .closed, .failed: true
        default: false
        }
    }

    package var description: String {
        switch self {
        case .closed(let reason): "closed (\(reason))"
        case .failed(let f): "failed: \(f.name): \(f.sentence)"
        default: name
        }
    }
}

/// Why an association never associated: the library's typed error, kept as it is. The catalogue's
/// words and the front end's hint are made from it where it is shown.
package struct AssociationFailure: Sendable, Equatable, CustomStringConvertible {
    package var error: SOCKS5Error

    package init(_ error: SOCKS5Error) { self.error = error }

    /// The S5_* code; nil when the failure is below SOCKS (the TCP connection, a timeout).
    package var code: SOCKS5ErrorCode? { error.code }
    package var name: String { error.decoded.name }
    package var sentence: String { error.decoded.sentence }
    package var hint: String? { SocksDeckHint.hint(for: error, library: error.decoded.hint) }
    package var detail: String? { error.detail }
    package var errnoName: String { ErrorCatalogue.decode(errno: error.systemError).name }

    package var description: String {
        let d = error.decoded
        var text = "\(d.name): \(d.sentence)"
        if let detail { text += " (\(detail))" }
        if let hint { text += " Hint: \(hint)" }
        return text
    }
}
