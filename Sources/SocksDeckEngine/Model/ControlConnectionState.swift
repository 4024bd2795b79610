import Socks5

/// Where an association's control connection stands. The association lives exactly as long as
/// the control connection (RFC 1928), so this is the association's state too.
public enum ControlConnectionState: Sendable, Equatable, CustomStringConvertible {
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
    public var name: String {
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

    public var isFinal: Bool {
        switch self {
        case .closed, .failed: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .closed(let reason): "closed (\(reason))"
        case .failed(let f): "failed: \(f.name): \(f.sentence)"
        default: name
        }
    }
}

/// A failure in words, ready to show: the catalogue's name, sentence and hint, with the codes
/// and specifics behind them.
public struct DecodedFailure: Sendable, Equatable, Codable, CustomStringConvertible {
    public var name: String
    public var sentence: String
    public var hint: String?
    public var detail: String?
    /// socks5_errno: 0 below SOCKS.
    public var s5Code: Int32
    public var errnoValue: Int32
    public var errnoName: String

    public init(_ error: SOCKS5Error) {
        let d = error.decoded
        name = d.name
        sentence = d.sentence
        hint = SocksDeckHint.hint(for: error, library: d.hint)
        detail = error.detail
        s5Code = error.socks5Errno
        errnoValue = error.systemError
        errnoName = ErrorCatalogue.decode(errno: error.systemError).name
    }

    public var description: String {
        var text = "\(name): \(sentence)"
        if let detail { text += " (\(detail))" }
        if let hint { text += " Hint: \(hint)" }
        return text
    }
}
