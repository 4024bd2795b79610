import Socks5
import SocksDeckEngine

/// The send form: target, payload, hex or text, count, interval. Enter sends once every field
/// reads; a wrong field keeps its text and says what is wrong (FormFields).
struct SendRequest: Equatable, Sendable {
    var fields = FormFields(
        names: ["target", "payload", "as hex (y/n)", "count", "interval ms"],
        values: ["", "", "n", "1", "0"],
        toggles: [2]
    )

    /// The association the form was opened on: Enter sends through it, whichever row is
    /// selected by then. Nil sends through the selected one (r, again).
    var association: AssociationID?

    init(target: String = "", payload: String = "", association: AssociationID? = nil) {
        self.association = association
        fields.set(0, target)
        fields.set(1, payload)
    }

    var target: String {
        get { fields.values[0] }
        set { fields.set(0, newValue) }
    }
    var payload: String {
        get { fields.values[1] }
        set { fields.set(1, newValue) }
    }
    var hex: Bool {
        get { fields.isOn(2) }
        set { fields.set(2, newValue ? "y" : "n") }
    }
    var count: String { fields.values[3] }
    var interval: String { fields.values[4] }
    var field: Int { fields.field }
    var problem: (field: Int, message: String)? { fields.problem }

    mutating func focus(_ field: Int) { fields.focus(field) }
    mutating func handle(_ key: Key) -> FormFields.Outcome { fields.handle(key) }

    /// What Enter sends, once every field reads.
    struct Validated: Equatable, Sendable {
        var target: SOCKSAddress
        var payload: [UInt8]
        var count: Int
        var interval: Int
    }

    /// The form's values as a send, or nil with the first wrong field marked (see FormFields).
    mutating func validate() -> Validated? {
        guard let destination = SOCKSAddress(destination: target) else {
            fields.refuse(0, "'\(target)' is not host:port, [IPv6]:port or name:port")
            return nil
        }
        let bytes: [UInt8]
        if hex {
            do { bytes = try HexPayload.decode(payload) } catch {
                fields.refuse(1, "not hex: \(error)")
                return nil
            }
        } else {
            bytes = Array(payload.utf8)
        }
        guard let n = Int(count), (1...100_000).contains(n) else {
            fields.refuse(3, "a count from 1 to 100000")
            return nil
        }
        guard let ms = Int(interval), (0...60_000).contains(ms) else {
            fields.refuse(4, "milliseconds from 0 to 60000")
            return nil
        }
        fields.clearProblem()
        return Validated(target: destination, payload: bytes, count: n, interval: ms)
    }
}
