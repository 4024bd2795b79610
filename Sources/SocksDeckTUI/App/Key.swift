/// A key press, independent of ncurses' numbering (the terminal layer translates).
enum Key: Hashable, Sendable, CustomStringConvertible {
    case character(Character)
    /// Ctrl with a letter, the letter in lower case: `.control("u")` is Ctrl-U.
    case control(Character)
    case enter, escape, tab, backTab, backspace, delete, up, down, left, right, pageUp, pageDown, home, end
    case function(Int)
    /// A click or a turn of the wheel at a screen cell.
    case mouse(MouseEvent)
    case resize

    var description: String {
        switch self {
        case .character(" "): "Space"
        case .character(let c): String(c)
        case .control(let c): "^" + c.uppercased()
        case .enter: "Enter"
        case .escape: "Esc"
        case .tab: "Tab"
        case .backTab: "S-Tab"
        case .backspace: "Bksp"
        case .delete: "Del"
        case .up: "↑"
        case .down: "↓"
        case .left: "←"
        case .right: "→"
        case .pageUp: "PgUp"
        case .pageDown: "PgDn"
        case .home: "Home"
        case .end: "End"
        case .function(let n): "F\(n)"
        case .mouse(let e): "mouse \(e.kind) at \(e.y),\(e.x)"
        case .resize: "resize"
        }
    }
}

/// What the mouse did, and where (screen row and column).
struct MouseEvent: Hashable, Sendable {
    enum Kind: String, Hashable, Sendable { case click, wheelUp, wheelDown }
    var kind: Kind
    var y: Int
    var x: Int

    init(_ kind: Kind, y: Int, x: Int) {
        self.kind = kind
        self.y = y
        self.x = x
    }
}

/// The panes of the screen.
enum PaneID: String, CaseIterable, Sendable {
    case servers, associations, detail, log

    var title: String {
        switch self {
        case .servers: "Servers"
        case .associations: "Associations"
        case .detail: "Detail"
        case .log: "Log"
        }
    }
}

/// Everything a key can ask for.
enum DeckAction: Hashable, Sendable {
    case quit, nextPane, previousPane, toggleHelp, cycleTheme
    case up, down, pageUp, pageDown, top, bottom
    case open, openIPv6, close, removeEnded, send, resend, toggleProbe, probeServer, writeCapture
    case filter, cycleSort, zoom, showFindings, addServer, editServer, removeServer, check, natTest
    case forward, stopForward
}

/// One entry of the key table: the keys, what they do, the words for the help, and the pane
/// they belong to (nil: everywhere). The same table dispatches keys and writes the help.
struct KeyBinding: Sendable {
    var keys: [Key]
    var action: DeckAction
    var help: String
    var pane: PaneID?
    /// A word or two for the status line ("open", "probe on/off"); nil keeps it off that line.
    var short: String?

    init(keys: [Key], action: DeckAction, help: String, pane: PaneID?, short: String? = nil) {
        self.keys = keys
        self.action = action
        self.help = help
        self.pane = pane
        self.short = short
    }

    /// "Enter/o open", as the status line shows it.
    var hint: String? { short.map { keys.map(\.description).joined(separator: "/") + " " + $0 } }
}

enum KeyTable {
    static let global: [KeyBinding] = [
        KeyBinding(
            keys: [.character("q")],
            action: .quit,
            help: "quit (closes every association)",
            pane: nil,
            short: "quit"
        ),
        KeyBinding(keys: [.tab], action: .nextPane, help: "next pane", pane: nil, short: "pane"),
        KeyBinding(keys: [.backTab], action: .previousPane, help: "previous pane", pane: nil),
        KeyBinding(
            keys: [.character("?"), .function(1)],
            action: .toggleHelp,
            help: "this help",
            pane: nil,
            short: "help"
        ),
        KeyBinding(keys: [.character("t")], action: .cycleTheme, help: "next colour theme", pane: nil),
        KeyBinding(
            keys: [.character("z")],
            action: .zoom,
            help: "zoom: the focused pane takes the whole screen (again: back)",
            pane: nil,
            short: "zoom"
        ),
        KeyBinding(keys: [.up, .character("k")], action: .up, help: "move up", pane: nil),
        KeyBinding(keys: [.down, .character("j")], action: .down, help: "move down", pane: nil),
        KeyBinding(keys: [.pageUp], action: .pageUp, help: "page up", pane: nil),
        KeyBinding(keys: [.pageDown], action: .pageDown, help: "page down", pane: nil),
        KeyBinding(keys: [.home, .character("g")], action: .top, help: "first", pane: nil),
        KeyBinding(keys: [.end, .character("G")], action: .bottom, help: "last", pane: nil),
        KeyBinding(
            keys: [.character("s")],
            action: .send,
            help: "send a datagram through the selected association",
            pane: nil,
            short: "send"
        ),
        KeyBinding(keys: [.character("r")], action: .resend, help: "send the last datagram again", pane: nil),
    ]

    /// Every binding: the global ones and each pane's own.
    static let all: [KeyBinding] = global + ServersPane.bindings + AssociationsPane.bindings

    /// The action for a key in the focused pane: the pane's own binding first, then a global one.
    static func action(for key: Key, in pane: PaneID) -> DeckAction? {
        all.first { $0.pane == pane && $0.keys.contains(key) }?.action
            ?? all.first { $0.pane == nil && $0.keys.contains(key) }?.action
    }

    /// The pane an action is bound to; nil for the global ones.
    static func pane(of action: DeckAction) -> PaneID? { all.first { $0.action == action }?.pane }

    /// The binding a key has in some other pane, for telling the user where it works.
    static func elsewhere(_ key: Key, notIn pane: PaneID) -> KeyBinding? {
        all.first { $0.pane != nil && $0.pane != pane && $0.keys.contains(key) }
    }

    /// The status line's hints for a pane, most useful first: the pane's own, then the global
    /// ones that have a short label. The status line shows as many whole hints as fit.
    static func hints(for pane: PaneID) -> [String] {
        (all.filter { $0.pane == pane } + global).compactMap(\.hint)
    }
}
