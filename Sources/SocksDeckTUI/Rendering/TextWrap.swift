/// Text broken into lines of at most `width` display cells: at spaces where it can, inside a
/// word only when one word is longer than a line. Continuation lines start with `indent` spaces
/// (a label's width, so that a wrapped value stays in its column). Never loses a character.
func wrap(_ text: String, width: Int, indent: Int = 0) -> [String] {
    guard width > indent + 1 else { return [fit(text, max(width, 0))] }
    var lines: [String] = []
    var current = ""
    var currentWidth = 0
    let pad = String(repeating: " ", count: indent)
    func flush() {
        lines.append(current)
        current = pad
        currentWidth = indent
    }
    for word in text.split(separator: " ", omittingEmptySubsequences: false).map(String.init) {
        let wordWidth = displayWidth(word)
        let separator = currentWidth > (lines.isEmpty ? 0 : indent) ? 1 : 0
        if currentWidth + separator + wordWidth <= width {
            if separator == 1 { current += " " }
            current += word
            currentWidth += separator + wordWidth
            continue
        }
        if currentWidth > (lines.isEmpty ? 0 : indent) { flush() }
        // A word longer than a line is cut where the line ends.
        var rest = Substring(word)
        while !rest.isEmpty {
            var piece = ""
            var pieceWidth = 0
            while let c = rest.first, pieceWidth + displayWidth(String(c)) <= width - currentWidth {
                piece.append(c)
                pieceWidth += displayWidth(String(c))
                rest.removeFirst()
            }
            if piece.isEmpty, let c = rest.first {
                piece.append(c)
                pieceWidth = displayWidth(String(c))
                rest.removeFirst()
            }
            current += piece
            currentWidth += pieceWidth
            if !rest.isEmpty { flush() }
        }
    }
    lines.append(current)
    return lines
}
