import NIOConcurrencyHelpers
import NIOCore
import Socks5

/// What each client address holds of the relay (connections still negotiating, associations
/// open), checked against the configured bounds so that one client cannot take every descriptor.
/// Shared by every connection across the relay's event loops, hence the lock.
final class ClientAdmission: Sendable {
    enum Resource: Sendable {
        case negotiation
        case association
    }

    /// A refusal, and whether this one is to be logged: the first of a client's refusals of a
    /// kind is, then one a `logInterval` at most, counting those passed over in between.
    struct Refusal: Equatable, Sendable {
        var limit: Int
        /// Set when a log line is due; how many refusals of this client and kind went unlogged
        /// since the last line.
        var logNow: Bool
        var unloggedBefore: Int
    }

    private struct Holdings {
        var negotiating = 0
        var associations = 0
        var lastLogged: [Resource: NIODeadline] = [:]
        var unlogged: [Resource: Int] = [:]

        var isEmpty: Bool { negotiating == 0 && associations == 0 && lastLogged.isEmpty }
    }

    private let maximumNegotiating: Int
    private let maximumAssociations: Int
    private let logInterval: TimeAmount
    private let clients = NIOLockedValueBox([IPAddress: Holdings]())

    init(limits: RelayConfiguration.ClientLimits, logInterval: TimeAmount = .seconds(60)) {
        maximumNegotiating = limits.negotiatingConnections
        maximumAssociations = limits.associations
        self.logInterval = logInterval
    }

    /// Takes one `resource` for `client`, or says why not. Every admission is given back with
    /// `release` exactly once.
    func admit(_ resource: Resource, for client: IPAddress, now: NIODeadline = .now()) -> Refusal? {
        clients.withLockedValue { clients in
            var holdings = clients[client] ?? Holdings()
            defer { clients[client] = holdings.isEmpty ? nil : holdings }
            let limit = resource == .negotiation ? maximumNegotiating : maximumAssociations
            let held = resource == .negotiation ? holdings.negotiating : holdings.associations
            guard held >= limit else {
                if resource == .negotiation { holdings.negotiating += 1 } else { holdings.associations += 1 }
                return nil
            }
            if let last = holdings.lastLogged[resource], now - last < logInterval {
                holdings.unlogged[resource, default: 0] += 1
                return Refusal(limit: limit, logNow: false, unloggedBefore: 0)
            }
            // Entries whose log window has passed are dropped here and by `release`, so the table
            // holds only clients that hold something or were refused within the last interval.
            let unlogged = holdings.unlogged[resource] ?? 0
            holdings.lastLogged[resource] = now
            holdings.unlogged[resource] = 0
            return Refusal(limit: limit, logNow: true, unloggedBefore: unlogged)
        }
    }

    func release(_ resource: Resource, for client: IPAddress, now: NIODeadline = .now()) {
        clients.withLockedValue { clients in
            guard var holdings = clients[client] else { return }
            if resource == .negotiation {
                holdings.negotiating = max(0, holdings.negotiating - 1)
            } else {
                holdings.associations = max(0, holdings.associations - 1)
            }
            let interval = logInterval
            holdings.lastLogged = holdings.lastLogged.filter { now - $0.value < interval }
            holdings.unlogged = holdings.unlogged.filter { holdings.lastLogged[$0.key] != nil }
            clients[client] = holdings.isEmpty ? nil : holdings
        }
    }

    /// How many addresses the table holds (for the tests: it must not grow with every client seen).
    var trackedClients: Int { clients.withLockedValue { $0.count } }
}
