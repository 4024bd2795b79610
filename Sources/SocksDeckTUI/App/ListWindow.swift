/// Which rows of a list a pane shows: the selection always in view, the list scrolled just enough
/// to keep it at the bottom. One rule for the Servers and Associations panes, and for mapping a
/// mouse click back to the row under it.
enum ListWindow {
    /// The index of the first row shown.
    static func first(selected: Int, visibleRows: Int) -> Int { max(0, selected - visibleRows + 1) }

    /// The row shown at screen row `y`, in a list whose first row is drawn at `top`; nil when no
    /// row is there.
    static func index(atScreenRow y: Int, top: Int, selected: Int, visibleRows: Int, count: Int) -> Int? {
        let offset = y - top
        guard (0..<visibleRows).contains(offset) else { return nil }
        let index = first(selected: selected, visibleRows: visibleRows) + offset
        return index < count ? index : nil
    }
}
