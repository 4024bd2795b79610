import SocksDeckEngine

/// An association's failure as the JSON has always written it: the catalogue's words, the hint,
/// and the codes behind them (socks5_errno 0 below SOCKS).
struct FailureJSON: Encodable {
    var name: String
    var sentence: String
    var hint: String?
    var detail: String?
    var s5Code: Int32
    var errnoValue: Int32
    var errnoName: String

    init(_ f: AssociationFailure) {
        (name, sentence, hint, detail) = (f.name, f.sentence, f.hint, f.detail)
        (s5Code, errnoValue, errnoName) = (f.error.socks5Errno, f.error.systemError, f.errnoName)
    }
}
