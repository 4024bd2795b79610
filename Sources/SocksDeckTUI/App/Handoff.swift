import Synchronization

/// Results handed from background tasks (a send, a check, a forward starting) to the UI loop,
/// which takes what has arrived on each refresh.
final class Handoff<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])

    func put(_ item: Element) { items.withLock { $0.append(item) } }

    /// Everything put since the last call, oldest first.
    func take() -> [Element] {
        items.withLock { items in
            defer { items = [] }
            return items
        }
    }
}
