import Foundation

/// An association's life as a value-type state machine: the moves it may make, each recorded
/// with its time. Connecting, negotiating, (authenticating,) requesting, associated; from any of
/// them it may fail or be closed; from closed or failed it goes nowhere. The engine's
/// `Association` owns one and asks it before anything changes, so that a late event (a reply
/// after a timeout, an EOF after a close) cannot move an ended association.
package struct AssociationLifecycle: Sendable {
    package private(set) var state: ControlConnectionState = .connecting
    /// Every state entered, oldest first, with when.
    package private(set) var history: [(state: ControlConnectionState, since: Date)]

    package init(at time: Date = Date()) { history = [(.connecting, time)] }

    /// Whether `next` may follow `current`.
    package static func allows(_ current: ControlConnectionState, _ next: ControlConnectionState) -> Bool {
        switch (current, next) {
        case _ where current.isFinal || current == next: false
        case (.connecting, .negotiating), (.negotiating, .authenticating), (.negotiating, .requesting),
            (.authenticating, .requesting), (.requesting, .associated):
            true
        // Ending: a failure before the reply is a failure; a close is the user's or the engine's
        // at any point, or the server's after the reply (before it, the handshake fails).
        case (.associated, .failed): false
        case (_, .failed), (_, .closed): true
        default: false
        }
    }

    /// Moves to `next` when that is a legal move; false (and nothing changes) otherwise.
    @discardableResult
    package mutating func move(to next: ControlConnectionState, at time: Date = Date()) -> Bool {
        guard Self.allows(state, next) else { return false }
        state = next
        history.append((next, time))
        return true
    }
}
