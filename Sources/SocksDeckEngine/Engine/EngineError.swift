/// A request the engine cannot carry out, in words.
package enum EngineError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownServer(String)
    case unknownAssociation(AssociationID)
    case notAssociated(AssociationID, state: String)
    case unresolvable(String)
    /// The server is configured, but cannot be used as configured (see `ServerDefinition.unusableBecause`).
    case unusableServer(String, because: String)
    case invalidArgument(String)
    /// A local address that cannot be bound (in use, or not this machine's), with the system's words.
    case cannotListen(String, because: String)
    /// A request after `shutdown()`.
    case shutDown

    package var description: String {
        switch self {
        case .unknownServer(let name): "no server named '\(name)' is configured"
        case .unknownAssociation(let id): "no association \(id)"
        case .notAssociated(let id, let state): "association \(id) is no longer associated: \(state)"
        case .unresolvable(let host): "cannot resolve '\(host)' to an IPv4 or IPv6 address"
        case .unusableServer(let name, let reason): "server '\(name)' cannot be used: \(reason)"
        case .invalidArgument(let text): text
        case .cannotListen(let address, let reason): "cannot listen on \(address): \(reason)"
        case .shutDown: "the engine has been shut down"
        }
    }
}
