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

        /// Forgets log windows that have passed, but for those with refusals still to be told in
        /// the next line, unless `forgettingCounts` (a client that holds nothing, swept away).
        mutating func expire(now: NIODeadline, interval: TimeAmount, forgettingCounts: Bool = false) {
            let counts = unlogged
            lastLogged = lastLogged.filter {
                now - $0.value < interval || (!forgettingCounts && counts[$0.key, default: 0] > 0)
            }
            unlogged = unlogged.filter { lastLogged[$0.key] != nil }
        }
    }

    private let maximumNegotiating: Int
    private let maximumAssociations: Int
    private let logInterval: TimeAmount
    private let clients = NIOLockedValueBox(Table())

    private struct Table {
        var holdings: [IPAddress: Holdings] = [:]
        /// Admissions since the last sweep of the whole table.
        var sinceSweep = 0
    }

    /// Every this many admissions the whole table is swept of clients that hold nothing and
    /// whose log window has passed: one refused once and never seen again would stay otherwise.
    static let sweepEvery = 1024

    init(limits: RelayConfiguration.ClientLimits, logInterval: TimeAmount = .seconds(60)) {
        maximumNegotiating = limits.negotiatingConnections
        maximumAssociations = limits.associations
        self.logInterval = logInterval
    }

    /// Takes one `resource` for `client`, or says why not. Every admission is given back with
    /// `release` exactly once.
    func admit(_ resource: Resource, for client: IPAddress, now: NIODeadline = .now()) -> Refusal? {
        clients.withLockedValue { table in
            table.sinceSweep += 1
            if table.sinceSweep >= Self.sweepEvery {
                table.sinceSweep = 0
                let interval = logInterval
                for key in Array(table.holdings.keys) {
                    let idle = table.holdings[key]!.negotiating == 0 && table.holdings[key]!.associations == 0
                    table.holdings[key]!.expire(now: now, interval: interval, forgettingCounts: idle)
                    if table.holdings[key]!.isEmpty { table.holdings[key] = nil }
                }
            }
            var holdings = table.holdings[client] ?? Holdings()
            holdings.expire(now: now, interval: logInterval)
            defer { table.holdings[client] = holdings.isEmpty ? nil : holdings }
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
            // Passed log windows are dropped here, by `release` and by the sweep: the table holds
            // clients that hold something, were refused lately, or have refusals still to tell.
            let unlogged = holdings.unlogged[resource] ?? 0
            holdings.lastLogged[resource] = now
            holdings.unlogged[resource] = 0
            return Refusal(limit: limit, logNow: true, unloggedBefore: unlogged)
        }
    }

    func release(_ resource: Resource, for client: IPAddress, now: NIODeadline = .now()) {
        clients.withLockedValue { table in
            guard var holdings = table.holdings[client] else { return }
            if resource == .negotiation {
                holdings.negotiating = max(0, holdings.negotiating - 1)
            } else {
                holdings.associations = max(0, holdings.associations - 1)
            }
            holdings.expire(now: now, interval: logInterval)
            table.holdings[client] = holdings.isEmpty ? nil : holdings
        }
    }

    /// How many addresses the table holds (for the tests: it must not grow with every client seen).
    var trackedClients: Int { clients.withLockedValue { $0.holdings.count } }
}
