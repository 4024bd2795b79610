/// What the engine holds, as plain values: every association's snapshot (oldest first) and the
/// event log (oldest first). A frame of the UI draws from one.
package struct EngineView: Sendable {
    package var associations: [AssociationSnapshot]
    package var events: [EngineEvent]

    package init(associations: [AssociationSnapshot], events: [EngineEvent]) {
        self.associations = associations
        self.events = events
    }
}
