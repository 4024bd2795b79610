/// What the engine holds, as plain values: every association's snapshot (oldest first) and the
/// event log (oldest first). A frame of the UI draws from one.
public struct EngineView: Sendable {
    public var associations: [AssociationSnapshot]
    public var events: [EngineEvent]

    public init(associations: [AssociationSnapshot], events: [EngineEvent]) {
        self.associations = associations
        self.events = events
    }
}
