/// A pane's own keys, htop's way: each pane does what its bindings ask for, and the screen does
/// only what belongs to no pane (quit, Tab, help, themes, movement, zoom, send). The key table
/// (`KeyTable`) still lists every binding, dispatches keys and writes the help.
protocol PaneKeyHandler {
    func perform(_ action: DeckAction, on controller: DeckController) async
}

enum PaneKeys {
    /// The handler of the pane an action is bound to; nil for a pane without actions of its own.
    static func handler(for pane: PaneID) -> (any PaneKeyHandler)? {
        switch pane {
        case .servers: ServersPaneKeys()
        case .associations: AssociationsPaneKeys()
        case .detail, .log: nil
        }
    }
}
