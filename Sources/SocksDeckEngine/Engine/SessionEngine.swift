import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Socks5
import Socks5NIO

#if canImport(Glibc)
import Glibc
#endif

/// The session engine: configured servers, associations opened and closed on demand, their
/// counters, probes and the event log. Front ends (the CLI, the TUI) ask it things and read
/// snapshots; they never touch its internals.
///
/// All state lives on one event loop (`EngineCore`), so there are no locks and no thread per
/// association: thousands of associations cost a few kilobytes each.
package final class SessionEngine: Sendable {
    package let configuration: DeckConfiguration
    let group: MultiThreadedEventLoopGroup
    /// The engine's one loop: every association's channels and timers run on it.
    let loop: EventLoop
    /// The engine's state, reachable only on `loop`: `onLoop` hands it to the work it runs there,
    /// and NIOLoopBoundBox checks the thread, so nothing else can reach it.
    private let core: NIOLoopBoundBox<EngineCore>
    private let revision: ViewRevision
    let captureMode: CaptureMode
    /// Set by shutdown(): from then on every request answers at once (an event loop that has
    /// shut down drops submitted work, and an await on it would never return).
    private let stopped = NIOLockedValueBox(false)
    /// The loop as a task executor, for `runOnLoop`.
    let loopExecutor: LoopTaskExecutor

    /// `capture`: whether associations are captured as pcapng (off by default: it copies every
    /// datagram).
    package init(configuration: DeckConfiguration, eventLogCapacity: Int = 2000, capture: CaptureMode = .off) {
        self.configuration = configuration
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        (loop, revision, captureMode) = (group.next(), ViewRevision(), capture)
        core = NIOLoopBoundBox.makeBoxSendingValue(
            EngineCore(loop: loop, viewRevision: revision, eventLogCapacity: eventLogCapacity, capture: capture),
            as: EngineCore.self,
            eventLoop: loop
        )
        loopExecutor = LoopTaskExecutor(loop: loop)
    }

    /// Opens an association through the configured server `name`. Returns at once; the state
    /// moves on in the background (see `waitUntilSettled`).
    package func open(server name: String, family: AddressFamily? = nil) async throws(EngineError) -> AssociationID {
        guard let server = configuration.server(named: name) else { throw .unknownServer(name) }
        return try await open(server: server, family: family)
    }

    /// Opens an association through any server definition (an ad-hoc one, say).
    package func open(server: ServerDefinition, family: AddressFamily? = nil) async throws(EngineError) -> AssociationID
    {
        let (endpoint, otherAddresses) = try await resolve(server)
        let group = self.group
        return try await onLoop { core in
            core.open(
                server: server,
                endpoint: endpoint,
                otherAddresses: otherAddresses,
                family: family ?? endpoint.family,
                group: group
            )
        }
    }

    /// Opens an association and waits until it is associated, failed or closed (or `timeout`
    /// passes): `open` and `waitUntilSettled` in one hop to the loop and one back, the quickest
    /// way to a settled association (the setup benchmark's).
    package func openAndWait(
        server: ServerDefinition,
        family: AddressFamily? = nil,
        timeout: Duration = .seconds(30)
    ) async throws(EngineError) -> AssociationSnapshot {
        try await openAndWait(try await Self.resolve(server), family: family, timeout: timeout)
    }

    /// The same through a server resolved already (the capability probe's, whose name must not
    /// be resolved again to another address).
    package func openAndWait(
        _ resolved: ResolvedServer,
        family: AddressFamily? = nil,
        timeout: Duration = .seconds(30)
    ) async throws(EngineError) -> AssociationSnapshot {
        let (group, within) = (self.group, TimeAmount(timeout))
        let snapshot = try await onLoopAwaiting { core in
            let id = core.open(
                server: resolved.server,
                endpoint: resolved.endpoint,
                otherAddresses: resolved.otherAddresses,
                family: family ?? resolved.endpoint.family,
                group: group
            )
            return core.settledSnapshot(id, within: within)
        }
        // Only `forget` removes an association, and nobody knew this one's id yet.
        guard let snapshot else { throw .shutDown }
        return snapshot
    }

    func resolve(_ server: ServerDefinition) async throws(EngineError) -> (IPEndpoint, [IPAddress]) {
        let resolved = try await Self.resolve(server)
        return (resolved.endpoint, resolved.otherAddresses)
    }

    /// The one way a server's address is found, for the engine and every front end: a literal as
    /// it is, a name resolved by the system resolver (as any client) off the caller's thread, its
    /// first address used and the others kept (the rendezvous rule needs them).
    package static func resolve(_ server: ServerDefinition) async throws(EngineError) -> ResolvedServer {
        if let reason = server.unusableBecause { throw .unusableServer(server.name, because: reason) }
        if let address = IPAddress(server.host) {
            return ResolvedServer(server: server, endpoint: IPEndpoint(address, port: server.port), otherAddresses: [])
        }
        let resolved = await resolveOffTheCallersThread(server.host, port: server.port)
        guard let first = resolved.first else { throw .unresolvable(server.host) }
        return ResolvedServer(server: server, endpoint: first, otherAddresses: resolved.dropFirst().map(\.address))
    }

    /// getaddrinfo blocks for as long as the resolver takes (seconds, for a dead one): on a
    /// dispatch thread, never on the engine's loop or on the caller's (the TUI awaits `open`
    /// from its frame loop, and Swift's cooperative threads must not block).
    static func resolveOffTheCallersThread(_ host: String, port: UInt16) async -> [IPEndpoint] {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: NameResolution.resolveAll(host, port: port)) }
        }
    }

    /// Opens `count` associations through `server` and waits until each has settled, `batch` at
    /// a time: a burst of a thousand connects overflows a server's listen backlog. Returns their
    /// ids, oldest first; see their snapshots for which are associated.
    package func open(
        server: ServerDefinition,
        count: Int,
        batch: Int = 50
    ) async throws(EngineError) -> [AssociationID] {
        guard count >= 1, batch >= 1 else { throw .invalidArgument("count and batch must be at least 1") }
        var ids: [AssociationID] = []
        for start in stride(from: 0, to: count, by: batch) {
            var opened: [AssociationID] = []
            for _ in start..<min(start + batch, count) { opened.append(try await open(server: server)) }
            for id in opened {
                _ = await waitUntilSettled(id, timeout: server.settleBound)
            }
            ids += opened
        }
        return ids
    }

    /// Waits until the association is associated, failed or closed (or `timeout` passes), and
    /// returns its snapshot.
    package func waitUntilSettled(_ id: AssociationID, timeout: Duration = .seconds(30)) async -> AssociationSnapshot? {
        let within = TimeAmount(timeout)
        return (try? await onLoopAwaiting { core in core.settledSnapshot(id, within: within) }) ?? nil
    }

    /// Closes an association: its control connection and its data socket. Returns once both
    /// sockets are closed (so that a capture already holds the close). The person's doing unless
    /// SocksDeck closes it for a reason of its own (`by: .engine`, with that reason).
    package func close(
        _ id: AssociationID,
        because reason: String = "closed by the user",
        by closer: AssociationCloser = .user
    ) async {
        do {
            try await onLoopAwaiting { core -> EventLoopFuture<Void> in
                guard let a = core.associations[id] else { return core.loop.makeSucceededVoidFuture() }
                let futures = [a.control?.closeFuture, a.data?.closeFuture].compactMap { $0 }
                a.close(because: reason, by: closer)
                return EventLoopFuture.andAllComplete(futures, on: core.loop)
            }
        } catch {
            // .shutDown, the only error: the engine closed every association as it stopped.
        }
    }

    /// Sends `payload` `count` times, `interval` apart, to `target` through the association.
    /// Returns how many were handed to the kernel.
    @discardableResult
    package func send(
        _ id: AssociationID,
        to target: SOCKSAddress,
        payload: [UInt8],
        count: Int = 1,
        interval: Duration = .zero
    ) async throws(EngineError) -> Int {
        guard count >= 1 else { throw .invalidArgument("count must be at least 1") }
        var written = 0
        for i in 0..<count {
            if i > 0 && interval > .zero { try? await Task.sleep(for: interval) }
            let result = try await onLoop { core in core.send(id, to: target, payload: payload) }
            switch result {
            case .success(let future):
                if (try? await future.get()) != nil { written += 1 }
            case .failure(let error):
                throw error
            }
        }
        return written
    }

    /// Sends `request` to `target` through the association at each of `sendAt` (after the call)
    /// until a datagram comes back that `accepts` takes, and returns it; nil when none came by
    /// `giveUpAt`, or the association ended. The protocol checks (DNS, NTP,
    /// STUN) are built on it, each with its own matcher (transaction id, originate timestamp).
    package func exchange(
        _ id: AssociationID,
        to target: SOCKSAddress,
        request: [UInt8],
        sendAt: [Duration] = [.zero],
        giveUpAt: Duration,
        fragment: UInt8 = 0,
        accepts: @escaping @Sendable ([UInt8]) -> Bool
    ) async throws(EngineError) -> ExchangeReply? {
        let (sends, giveUp) = (sendAt.map(TimeAmount.init), TimeAmount(giveUpAt))
        let result = try await onLoop { core in
            core.exchange(
                id,
                to: target,
                request: request,
                sendAt: sends,
                giveUpAt: giveUp,
                fragment: fragment,
                accepts: accepts
            )
        }
        switch result {
        case .success(let future): return (try? await future.get()) ?? nil
        case .failure(let error): throw error
        }
    }

    /// Starts a periodic probe to the echo target (the server's configured one by default).
    package func startProbe(
        _ id: AssociationID,
        target: IPEndpoint? = nil,
        interval: Duration = .seconds(1)
    ) async throws(EngineError) {
        // Never faster than every 10 ms.
        let every = max(TimeAmount(interval), .milliseconds(10))
        let result = try await onLoop { core in core.startProbe(id, target: target, interval: every) }
        try result.get()
    }

    package func stopProbe(_ id: AssociationID) async {
        await onLoopWhileRunning { core in
            guard let association = core.associations[id] else { return }
            for probe in association.subscribers(of: HealthProbe.self) { probe.stop() }
            association.subscriberChanged()
        }
    }

    package func snapshot(_ id: AssociationID) async -> AssociationSnapshot? {
        (try? await onLoop { core in core.associations[id]?.snapshot }) ?? nil
    }

    /// Which associations' recent datagrams a list of snapshots carries.
    package enum RecentDatagrams: Sendable {
        case all
        /// This association's only (none when nil): a screen of a thousand rows shows counters,
        /// and copying every ring ten times a second was most of the UI's CPU.
        case only(AssociationID?)
    }

    /// Every association, oldest first.
    package func snapshots(recentDatagrams: RecentDatagrams = .all) async -> [AssociationSnapshot] {
        await view(recentDatagrams: recentDatagrams).associations
    }

    /// The event log, oldest first; only one association's events when `association` is given.
    package func events(for association: AssociationID? = nil) async -> [EngineEvent] {
        let all = (try? await onLoop { core in core.orderedEvents }) ?? []
        return association.map { id in all.filter { $0.association == id } } ?? all
    }

    /// Grows with every change `view` would show; while it stands still, the last view holds (ages
    /// and rates aside, which are computed from the time). Read without visiting the loop.
    package var viewRevision: UInt64 { revision.value }

    /// What a screen draws, read in one visit to the loop: a frame that asked for the snapshots
    /// and the log separately waited for the loop twice.
    package func view(recentDatagrams: RecentDatagrams = .all) async -> EngineView {
        (try? await onLoop { core in
            EngineView(
                associations: core.orderedAssociations.map { association in
                    let include =
                        switch recentDatagrams {
                        case .all: true
                        case .only(let selected): selected == association.id
                        }
                    return association.snapshot(includingRecent: include)
                },
                events: core.orderedEvents
            )
        }) ?? EngineView(associations: [], events: [])
    }

    /// Forgets closed and failed associations; returns how many.
    @discardableResult
    package func prune() async -> Int {
        (try? await onLoop { core -> Int in
            let before = core.associations.count
            core.associations = core.associations.filter { !$0.value.state.isFinal }
            return before - core.associations.count
        }) ?? 0
    }

    /// Forgets one ended (closed or failed) association; a live one stays (close it first).
    /// Returns whether it was forgotten.
    @discardableResult
    package func forget(_ id: AssociationID) async -> Bool {
        (try? await onLoop { core -> Bool in
            guard core.associations[id]?.state.isFinal == true else { return false }
            core.associations[id] = nil
            return true
        }) ?? false
    }

    /// The server and the family an association was opened with (to open another like it).
    func definition(of id: AssociationID) async -> (ServerDefinition, AddressFamily)? {
        (try? await onLoop { core in core.associations[id].map { ($0.server, $0.family) } }) ?? nil
    }

    /// Adds a line to the event log (what the TUI's Log pane shows), from the engine's extensions.
    func log(_ level: EngineEvent.Level, _ id: AssociationID?, _ message: String) async {
        await onLoopWhileRunning { core in core.log(level, id, message) }
    }

    /// Runs `body` on the engine's loop and awaits the future it returns, in one hop there and one
    /// back. The only way that fails is an engine already shut down.
    func onLoopAwaiting<T: Sendable>(
        _ body: @escaping @Sendable (EngineCore) -> EventLoopFuture<T>
    ) async throws(EngineError) -> T {
        guard !stopped.withLockedValue({ $0 }) else { throw .shutDown }
        let core = self.core
        do {
            // A caller already on the loop (`runOnLoop`) does the work in place.
            if loop.inEventLoop { return try await body(core.value).get() }
            return try await loop.flatSubmit { body(core.value) }.get()
        } catch {
            throw .shutDown
        }
    }

    /// Runs `body` on the engine's loop, with the engine's state. The only way that fails is an
    /// engine already shut down.
    func onLoop<T: Sendable>(_ body: @escaping @Sendable (EngineCore) -> T) async throws(EngineError) -> T {
        guard !stopped.withLockedValue({ $0 }) else { throw .shutDown }
        let core = self.core
        if loop.inEventLoop { return body(core.value) }
        do {
            return try await loop.submit { body(core.value) }.get()
        } catch {
            throw .shutDown
        }
    }

    /// `onLoop` for work that has nothing to do once the engine has shut down (its associations
    /// closed, its log gone with it): `.shutDown`, the only error, is the answer.
    func onLoopWhileRunning(_ body: @escaping @Sendable (EngineCore) -> Void) async {
        do { try await onLoop(body) } catch {}
    }

    /// Closes every association and stops the engine's thread.
    package func shutdown() async {
        // Only the first call does the work; later ones (and every request after) answer at once.
        guard
            stopped.withLockedValue({ was in
                defer { was = true }
                return !was
            }) == true
        else { return }
        let core = self.core
        let closing = try? await loop.submit { () -> [EventLoopFuture<Void>] in
            let core = core.value
            return core.forwards.values.map { $0.stop() }
                + core.associations.values.compactMap { a -> [EventLoopFuture<Void>]? in
                    let futures = [a.control?.closeFuture, a.data?.closeFuture].compactMap { $0 }
                    a.close(because: "engine shut down", by: .engine)
                    return futures
                }.flatMap { $0 }
        }.get()
        for f in closing ?? [] { try? await f.get() }
        loopExecutor.stopUsingTheLoop()
        try? await group.shutdownGracefully()
    }
}
