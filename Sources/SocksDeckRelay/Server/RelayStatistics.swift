import NIOConcurrencyHelpers
import Socks5

/// What the relay has done since it started: read by `serve`'s log and by the tests.
package struct RelayStatistics: Sendable, Equatable {
    package var connectionsAccepted = 0
    package var associationsOpened = 0
    package var associationsOpen = 0
    package var connectsOpened = 0
    /// Connections refused, whatever the reason (the two client-limit counts below included).
    package var refusals = 0
    /// Connections closed because their greeting, login or request did not come in time.
    package var negotiationTimeouts = 0
    /// Connections closed on arrival: their client already had its bound of connections negotiating.
    package var connectionsOverClientLimit = 0
    /// UDP ASSOCIATE requests refused: their client already held its bound of associations.
    package var associationsOverClientLimit = 0
    package var datagramsToTargets = 0
    package var datagramsToClients = 0
    /// Datagrams relayed cut short (`serve --cut-datagrams`).
    package var datagramsCut = 0
    /// Drops by reason: foreign source or port, fragments, malformed headers, oversize,
    /// unresolvable names, replies before the client spoke, filtered senders.
    package var drops: [DatagramDropReason: Int] = [:]
}

/// The statistics, shared by every connection's handlers across the relay's event loops.
final class StatisticsBox: Sendable {
    private let box = NIOLockedValueBox(RelayStatistics())

    func update(_ body: (inout RelayStatistics) -> Void) { box.withLockedValue { body(&$0) } }

    var value: RelayStatistics { box.withLockedValue { $0 } }
}
