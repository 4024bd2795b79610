/// One line of text being typed, with a cursor, and the line-editing keys people's fingers know
/// from readline and every shell: ←/→, Home/End and Ctrl-A/Ctrl-E, Backspace and Del, Ctrl-U (to
/// the start), Ctrl-K (to the end), Ctrl-W (the word before). Any other control key is refused,
/// never inserted. Used by the send form and the filter.
struct LineEditor: Equatable, Sendable {
    private(set) var text: String
    /// Characters before the cursor.
    private(set) var cursor: Int

    init(_ text: String = "") {
        self.text = text
        cursor = text.count
    }

    /// What a key did.
    enum Outcome: Equatable, Sendable {
        case edited, moved
        /// Not a line-editing key: the caller may give it another meaning (Tab, Enter, Esc).
        case notEditing
    }

    @discardableResult
    mutating func apply(_ key: Key) -> Outcome {
        var characters = Array(text)
        defer { text = String(characters) }
        switch key {
        case .character(let c):
            characters.insert(c, at: cursor)
            cursor += 1
        case .left:
            cursor = max(cursor - 1, 0)
            return .moved
        case .right:
            cursor = min(cursor + 1, characters.count)
            return .moved
        case .home, .control("a"):
            cursor = 0
            return .moved
        case .end, .control("e"):
            cursor = characters.count
            return .moved
        case .backspace, .control("h"):
            guard cursor > 0 else { return .edited }
            characters.remove(at: cursor - 1)
            cursor -= 1
        case .delete, .control("d"):
            if cursor < characters.count { characters.remove(at: cursor) }
        case .control("u"):
            characters.removeSubrange(0..<cursor)
            cursor = 0
        case .control("k"):
            characters.removeSubrange(cursor...)
        case .control("w"):
            var start = cursor
            while start > 0, characters[start - 1] == " " { start -= 1 }
            while start > 0, characters[start - 1] != " " { start -= 1 }
            characters.removeSubrange(start..<cursor)
            cursor = start
        case .control: return .edited  // swallowed: a control character is never text
        default: return .notEditing
        }
        return .edited
    }

    /// The text with a bar where the cursor is, for drawing a field that has the focus.
    var withCursor: String {
        var characters = Array(text)
        characters.insert("▏", at: cursor)
        return String(characters)
    }
}
