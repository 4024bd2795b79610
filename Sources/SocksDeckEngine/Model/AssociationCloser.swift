/// Who ended an association that was closed (not failed): the person, its server, or SocksDeck
/// itself for its own reasons (shutdown, a flow gone idle, a check's helper association done).
/// A screen colours the three differently: only the server's doing is the proxy's news.
package enum AssociationCloser: String, Sendable, Codable {
    case user
    case server
    case engine
}
