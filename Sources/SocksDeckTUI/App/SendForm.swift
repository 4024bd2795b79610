import Socks5
import SocksDeckEngine

/// The send form: its fields as typed, the field being typed in (with a line editor), and what
/// is wrong with a field after a refused Enter. A value type of its own: the controller hands it
/// keys and acts on what it asks for.
public struct SendRequest: Equatable, Sendable {
    public var target = ""
    public var payload = ""
    public var hex = false
    public var count = "1"
    public var interval = "0"
    public private(set) var field = 0
    /// The active text field, with its cursor; written back to its field on every key.
    private(set) var editor = LineEditor()
    /// What is wrong, and with which field, after Enter was refused: the form stays as typed.
    public private(set) var problem: (field: Int, message: String)?

    static let fieldNames = ["target", "payload", "as hex (y/n)", "count", "interval ms"]
    static let hexField = 2

    public init(target: String = "", payload: String = "") {
        self.target = target
        self.payload = payload
        editor = LineEditor(target)
    }

    public static func == (a: SendRequest, b: SendRequest) -> Bool {
        a.values == b.values && a.field == b.field && a.editor == b.editor && a.problem?.field == b.problem?.field
            && a.problem?.message == b.problem?.message
    }

    /// Each field's text as shown ("y"/"n" for the hex toggle).
    var values: [String] { [target, payload, hex ? "y" : "n", count, interval] }

    /// Moves to `field`, its cursor at the end of its text.
    public mutating func focus(_ newField: Int) {
        field = (newField % Self.fieldNames.count + Self.fieldNames.count) % Self.fieldNames.count
        editor = LineEditor(values[field])
    }

    /// What the form asks its owner to do after a key.
    public enum Outcome: Equatable, Sendable { case stay, cancel, submit }

    public mutating func handle(_ key: Key) -> Outcome {
        switch key {
        case .escape: return .cancel
        case .enter: return .submit
        case .tab, .down: focus(field + 1)
        case .backTab, .up: focus(field - 1)
        default:
            if field == Self.hexField {
                switch key {
                case .character("y"), .character("Y"): hex = true
                case .character("n"), .character("N"): hex = false
                case .character(" "): hex.toggle()
                default: break
                }
            } else if editor.apply(key) == .edited {
                store(editor.text)
                if problem?.field == field { problem = nil }
            }
        }
        return .stay
    }

    private mutating func store(_ text: String) {
        switch field {
        case 0: target = text
        case 1: payload = text
        case 3: count = text
        case 4: interval = text
        default: break
        }
    }

    /// What Enter sends, once every field reads.
    public struct Validated: Equatable, Sendable {
        public var target: SOCKSAddress
        public var payload: [UInt8]
        public var count: Int
        public var interval: Int
    }

    /// The form's values as a send, or the first field that is wrong and why: that field gets
    /// the focus and the words, and what was typed stays.
    public mutating func validate() -> Validated? {
        func refuse(_ field: Int, _ message: String) -> Validated? {
            focus(field)
            problem = (field, message)
            return nil
        }
        guard let destination = SOCKSAddress(destination: target) else {
            return refuse(0, "'\(target)' is not host:port, [IPv6]:port or name:port")
        }
        let bytes: [UInt8]
        if hex {
            do { bytes = try HexPayload.decode(payload) } catch { return refuse(1, "not hex: \(error)") }
        } else {
            bytes = Array(payload.utf8)
        }
        guard let n = Int(count), (1...100_000).contains(n) else { return refuse(3, "a count from 1 to 100000") }
        guard let ms = Int(interval), (0...60_000).contains(ms) else { return refuse(4, "milliseconds from 0 to 60000") }
        problem = nil
        return Validated(target: destination, payload: bytes, count: n, interval: ms)
    }

    /// The text to draw for a field: with the cursor bar when it is the active one.
    func shown(_ index: Int) -> String {
        index == field && index != Self.hexField ? editor.withCursor : values[index]
    }
}
