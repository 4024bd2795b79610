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
    case failed(DecodedFailure)

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

/// A failure in words, ready to show: the catalogue's name, sentence and hint, with the codes
/// and specifics behind them.
package struct DecodedFailure: Sendable, Equatable, Codable, CustomStringConvertible {
    package var name: String
    package var sentence: String
    package var hint: String?
    package var detail: String?
    /// socks5_errno: 0 below SOCKS.
    package var s5Code: Int32
    package var errnoValue: Int32
    package var errnoName: String

    package init(_ error: SOCKS5Error) {
        let d = error.decoded
        name = d.name
        sentence = d.sentence
        hint = SocksDeckHint.hint(for: error, library: d.hint)
        detail = error.detail
        s5Code = error.socks5Errno
        errnoValue = error.systemError
        errnoName = ErrorCatalogue.decode(errno: error.systemError).name
    }

    package var description: String {
        var text = "\(name): \(sentence)"
        if let detail { text += " (\(detail))" }
        if let hint { text += " Hint: \(hint)" }
        return text
    }
}
