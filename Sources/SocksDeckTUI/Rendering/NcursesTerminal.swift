import CNcurses
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The terminal through ncursesw: the canvas panes draw on, the keys they read, colours from
/// the theme, and a terminal that is always given back (on exit, Ctrl-C, or a crash signal).
final class NcursesTerminal: Canvas {
    private(set) var height = 0
    private(set) var width = 0
    private var pairs: [Role: attr_t] = [:]
    private(set) var colorAvailable = false
    /// Mouse events that came in one run with the one returned; handed out before reading more.
    private var queued: [Key] = []

    /// Starts curses. Fails (with a sentence) when there is no usable terminal.
    /// `colors` false keeps every theme to attributes only (--no-color, NO_COLOR).
    init(colors: Bool = true) throws {
        // Wide characters need a UTF-8 locale; CI and minimal systems may have none set.
        setlocale(LC_ALL, "")
        if cn_locale_is_utf8() == 0 { setlocale(LC_ALL, "C.UTF-8") }
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            throw TerminalError("the terminal UI needs a terminal; for scripts see `socksdeck --help`")
        }
        guard let term = getenv("TERM"), cn_newterm(term) != nil else {
            throw TerminalError(
                "cannot start the terminal UI: unknown TERM '\(getenv("TERM").map { String(cString: $0) } ?? "")'"
            )
        }
        Self.installCrashHandlers()
        cbreak()
        noecho()
        nonl()
        keypad(cn_stdscr(), true)
        curs_set(0)
        set_escdelay(25)
        timeout(100)
        cn_mouse_on()
        colorAvailable = colors && has_colors() && getenv("NO_COLOR") == nil
        if colorAvailable {
            start_color()
            use_default_colors()
        }
        updateSize()
    }

    /// Gives the terminal back. Safe to call twice.
    func shutdown() {
        if isendwin() == false { endwin() }
    }

    func apply(_ theme: Theme) {
        pairs = [:]
        let useColor = colorAvailable && theme.usesColor
        for (index, role) in Role.allCases.enumerated() {
            let style = theme.style(role)
            var attributes = cn_a_normal()
            if style.bold { attributes |= cn_a_bold() }
            if style.reverse { attributes |= cn_a_reverse() }
            if style.dim { attributes |= cn_a_dim() }
            if style.underline { attributes |= cn_a_underline() }
            if useColor {
                func number(_ c: ThemeColor) -> Int16 {
                    guard case .index(let n) = c, n < Int(cn_colors()) else { return -1 }
                    return Int16(n)
                }
                init_pair(Int16(index + 1), number(style.foreground), number(style.background))
                attributes |= cn_color_pair(Int32(index + 1))
            } else if role == .selection || role == .status {
                attributes |= cn_a_reverse()
            }
            pairs[role] = attributes
        }
    }

    func updateSize() {
        height = Int(getmaxy(cn_stdscr()))
        width = Int(getmaxx(cn_stdscr()))
    }

    func clear() { erase() }

    func put(_ text: String, y: Int, x: Int, width: Int?, role: Role, pad: Bool) {
        guard y >= 0, y < height, x >= 0, x < self.width else { return }
        let room = min(width ?? (self.width - x), self.width - x)
        // The bottom-right cell cannot be written without scrolling: leave it.
        let usable = (y == height - 1 && x + room >= self.width) ? room - 1 : room
        let shown = fit(text, usable, pad: pad)
        _ = cn_attrset(pairs[role] ?? cn_a_normal())
        var wide = shown.unicodeScalars.map { wchar_t(bitPattern: $0.value) }
        wide.append(0)
        _ = cn_mvaddnwstr(Int32(y), Int32(x), wide, Int32(wide.count - 1))
    }

    /// One screen update per frame.
    func present() {
        wnoutrefresh(cn_stdscr())
        doupdate()
    }

    /// The next key, waiting at most the frame time (100 ms); nil when none came.
    func nextKey() -> Key? {
        if !queued.isEmpty { return queued.removeFirst() }
        var ch: wint_t = 0
        let rc = get_wch(&ch)
        if rc == ERR { return nil }
        if rc == KEY_CODE_YES {
            switch Int32(ch) {
            case KEY_UP: return .up
            case KEY_DOWN: return .down
            case KEY_LEFT: return .left
            case KEY_RIGHT: return .right
            case KEY_PPAGE: return .pageUp
            case KEY_NPAGE: return .pageDown
            case KEY_HOME: return .home
            case KEY_END: return .end
            case KEY_BTAB: return .backTab
            case KEY_BACKSPACE: return .backspace
            case KEY_ENTER: return .enter
            case KEY_DC: return .delete
            case cn_key_mouse():
                queued += Self.mouseEvents()
                return queued.isEmpty ? nil : queued.removeFirst()
            case cn_key_resize():
                updateSize()
                return .resize
            default:
                for n in 1...12 where Int32(ch) == cn_key_f(Int32(n)) { return .function(n) }
                return nil
            }
        }
        switch ch {
        case 10, 13: return .enter
        case 27: return .escape
        case 9: return .tab
        case 8, 127: return .backspace
        case 1...26: return .control(Character(Unicode.Scalar(UInt8(ch) + 0x60)))
        default:
            // Other C0 and C1 controls are no text: typed into a field they would break its border.
            guard ch >= 0x20, !(0x7F..<0xA0).contains(ch) else { return nil }
            guard let scalar = Unicode.Scalar(UInt32(ch)) else { return nil }
            return .character(Character(scalar))
        }
    }

    /// The presses and wheel turns of one KEY_MOUSE, oldest first; releases and moves are left out.
    private static func mouseEvents() -> [Key] {
        let capacity: Int32 = 16
        var kinds = [Int32](repeating: 0, count: Int(capacity))
        var ys = kinds
        var xs = kinds
        let count = Int(cn_get_mouse_events(&kinds, &ys, &xs, capacity))
        return (0..<count).reversed().compactMap { i in
            let kind: MouseEvent.Kind? =
                switch kinds[i] {
                case 1: .click
                case 4: .wheelUp
                case 5: .wheelDown
                default: nil
                }
            return kind.map { .mouse(MouseEvent($0, y: Int(ys[i]), x: Int(xs[i]))) }
        }
    }

    /// On a crash signal, give the terminal back before dying, so the shell is usable.
    private static func installCrashHandlers() {
        for sig in [SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP] {
            signal(sig) { received in
                endwin()
                signal(received, SIG_DFL)
                raise(received)
            }
        }
    }
}

struct TerminalError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension NcursesTerminal {
    func timeoutZero() { timeout(0) }
    func timeoutFrame() { timeout(100) }
}
