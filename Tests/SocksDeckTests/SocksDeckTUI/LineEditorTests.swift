import Testing

@testable import SocksDeckTUI

/// The line-editing keys of the send form and the filter, as readline has them.
@Suite struct LineEditorTests {
    static func typed(_ keys: [Key], into text: String = "") -> LineEditor {
        var editor = LineEditor(text)
        for key in keys { editor.apply(key) }
        return editor
    }

    @Test func charactersGoWhereTheCursorIs() {
        let e = Self.typed(
            [.left, .left, .character("X"), .home, .character("<"), .end, .character(">")],
            into: "abcd"
        )
        #expect(e.text == "<abXcd>")
        #expect(e.cursor == 7)
        #expect(Self.typed([.left, .left], into: "abcd").withCursor == "ab▏cd")
    }

    @Test func ctrlUKillsToTheStartCtrlKToTheEndCtrlWTheWordBefore() {
        #expect(Self.typed([.left, .left, .control("u")], into: "hello world").text == "ld")
        #expect(Self.typed([.home, .right, .control("k")], into: "hello world").text == "h")
        #expect(Self.typed([.control("w")], into: "127.0.0.1:53 some words  ").text == "127.0.0.1:53 some ")
        #expect(Self.typed([.control("w"), .control("w")], into: "a b").text == "")
        #expect(
            Self.typed([.control("a"), .character("x"), .control("e"), .character("y")], into: "mid").text == "xmidy"
        )
    }

    @Test func backspaceAndDeleteStopAtTheEnds() {
        #expect(Self.typed([.home, .backspace, .delete], into: "ab").text == "b")
        #expect(Self.typed([.delete, .backspace], into: "ab").text == "a")
        #expect(Self.typed(Array(repeating: .backspace, count: 5), into: "ab").text == "")
    }

    @Test func otherControlKeysAreNeverText() {
        var editor = LineEditor("ok")
        #expect(editor.apply(.control("g")) == .edited)
        #expect(editor.text == "ok")
        #expect(editor.apply(.tab) == .notEditing)
        #expect(editor.apply(.enter) == .notEditing)
    }
}
