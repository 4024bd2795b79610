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
public final class SessionEngine: Sendable {
    public let configuration: DeckConfiguration
    private let group: MultiThreadedEventLoopGroup
    let core: EngineCore
    /// Set by shutdown(): from then on every request answers at once (an event loop that has
    /// shut down drops submitted work, and an await on it would never return).
    private let stopped = NIOLockedValueBox(false)

    /// `capture`: whether associations are captured as pcapng (off by default: it copies every
    /// datagram).
    public init(configuration: DeckConfiguration, eventLogCapacity: Int = 2000, capture: CaptureMode = .off) {
        self.configuration = configuration
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        core = EngineCore(loop: group.next(), eventLogCapacity: eventLogCapacity, capture: capture)
    }

    /// Opens an association through the configured server `name`. Returns at once; the state
    /// moves on in the background (see `waitUntilSettled`).
    public func open(server name: String, family: AddressFamily? = nil) async throws(EngineError) -> AssociationID {
        guard let server = configuration.server(named: name) else { throw .unknownServer(name) }
        return try await open(server: server, family: family)
    }

    /// Opens an association through any server definition (an ad-hoc one, say).
    public func open(server: ServerDefinition, family: AddressFamily? = nil) async throws(EngineError) -> AssociationID
    {
        if let reason = server.unusableBecause { throw .unusableServer(server.name, because: reason) }
        // Literals need no lookup; a name is resolved here (the system resolver, as any client).
        let endpoint: IPEndpoint
        var others: [IPAddress] = []
        if let address = IPAddress(server.host) {
            endpoint = IPEndpoint(address, port: server.port)
        } else {
            let resolved = NameResolution.resolveAll(server.host, port: server.port)
            guard let first = resolved.first else { throw .unresolvable(server.host) }
            endpoint = first
            others = resolved.dropFirst().map(\.address)
        }
        let core = self.core
        let group = self.group
        let otherAddresses = others
        return try await onLoop {
            core.open(
                server: server,
                endpoint: endpoint,
                otherAddresses: otherAddresses,
                family: family ?? endpoint.family,
                group: group
            )
        }
    }

    /// Opens `count` associations through `server` and waits until each has settled, `batch` at
    /// a time: a burst of a thousand connects overflows a server's listen backlog. Returns their
    /// ids, oldest first; see their snapshots for which are associated.
    public func open(server: ServerDefinition, count: Int, batch: Int = 50) async throws(EngineError) -> [AssociationID]
    {
        guard count >= 1, batch >= 1 else { throw .invalidArgument("count and batch must be at least 1") }
        var ids: [AssociationID] = []
        for start in stride(from: 0, to: count, by: batch) {
            var opened: [AssociationID] = []
            for _ in start..<min(start + batch, count) { opened.append(try await open(server: server)) }
            for id in opened {
                _ = await waitUntilSettled(
                    id,
                    timeout: .seconds(
                        Int64(server.connectTimeoutMilliseconds + server.handshakeTimeoutMilliseconds) / 1000 + 1
                    )
                )
            }
            ids += opened
        }
        return ids
    }

    /// Waits until the association is associated, failed or closed (or `timeout` passes), and
    /// returns its snapshot.
    public func waitUntilSettled(_ id: AssociationID, timeout: Duration = .seconds(30)) async -> AssociationSnapshot? {
        let core = self.core
        let nanoseconds =
            Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        // Whichever comes first, on the loop: the association settles, or the time is up.
        let first = try? await onLoop { () -> EventLoopFuture<Void>? in
            guard let settled = core.associations[id]?.settled.futureResult else { return nil }
            let promise = core.loop.makePromise(of: Void.self)
            var done = false
            let timer = core.loop.assumeIsolated().scheduleTask(in: .nanoseconds(nanoseconds)) {
                if !done {
                    done = true
                    promise.succeed()
                }
            }
            settled.assumeIsolated().whenComplete { _ in
                timer.cancel()
                if !done {
                    done = true
                    promise.succeed()
                }
            }
            return promise.futureResult
        }
        guard let future = first ?? nil else { return nil }
        try? await future.get()
        return await snapshot(id)
    }

    /// Closes an association: its control connection and its data socket. Returns once both
    /// sockets are closed (so that a capture already holds the close).
    public func close(_ id: AssociationID) async {
        let core = self.core
        let closing = try? await onLoop { () -> [EventLoopFuture<Void>] in
            guard let a = core.associations[id] else { return [] }
            let futures = [a.control?.closeFuture, a.data?.closeFuture].compactMap { $0 }
            a.transition(to: .closed(reason: "closed by the user"))
            return futures
        }
        for future in closing ?? [] { try? await future.get() }
    }

    /// Sends `payload` `count` times, `interval` apart, to `target` through the association.
    /// Returns how many were handed to the kernel.
    @discardableResult
    public func send(
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
            let core = self.core
            let result = try await onLoop { core.send(id, to: target, payload: payload) }
            switch result {
            case .success(let future):
                if (try? await future.get()) != nil { written += 1 }
            case .failure(let error):
                throw error
            }
        }
        return written
    }

    /// Sends `request` to `target` through the association at each of `sendAt` (milliseconds
    /// after the call) until a datagram comes back that `accepts` takes, and returns it; nil
    /// when none came by `giveUpAt`, or the association ended. The protocol checks (DNS, NTP,
    /// STUN) are built on it, each with its own matcher (transaction id, originate timestamp).
    public func exchange(
        _ id: AssociationID,
        to target: SOCKSAddress,
        request: [UInt8],
        sendAt: [Int] = [0],
        giveUpAt: Int,
        accepts: @escaping @Sendable ([UInt8]) -> Bool
    ) async throws(EngineError) -> ExchangeReply? {
        let core = self.core
        let result = try await onLoop {
            core.exchange(id, to: target, request: request, sendAt: sendAt, giveUpAt: giveUpAt, accepts: accepts)
        }
        switch result {
        case .success(let future): return (try? await future.get()) ?? nil
        case .failure(let error): throw error
        }
    }

    /// Starts a periodic probe to the echo target (the server's configured one by default).
    public func startProbe(
        _ id: AssociationID,
        target: IPEndpoint? = nil,
        interval: Duration = .seconds(1)
    ) async throws(EngineError) {
        let core = self.core
        let ms = Int64(interval.components.seconds) * 1000 + interval.components.attoseconds / 1_000_000_000_000_000
        let result = try await onLoop { core.startProbe(id, target: target, interval: .milliseconds(max(ms, 10))) }
        try result.get()
    }

    public func stopProbe(_ id: AssociationID) async {
        let core = self.core
        _ = try? await onLoop { core.associations[id]?.stopProbe() }
    }

    public func snapshot(_ id: AssociationID) async -> AssociationSnapshot? {
        let core = self.core
        return (try? await onLoop { core.associations[id]?.snapshot }) ?? nil
    }

    /// Which associations' recent datagrams a list of snapshots carries.
    public enum RecentDatagrams: Sendable {
        case all
        /// This association's only (none when nil): a screen of a thousand rows shows counters,
        /// and copying every ring ten times a second was most of the UI's CPU.
        case only(AssociationID?)
    }

    /// Every association, oldest first.
    public func snapshots(recentDatagrams: RecentDatagrams = .all) async -> [AssociationSnapshot] {
        let core = self.core
        return
            (try? await onLoop {
                core.associations.keys.sorted().compactMap { id in
                    let include =
                        switch recentDatagrams {
                        case .all: true
                        case .only(let selected): selected == id
                        }
                    return core.associations[id]?.snapshot(includingRecent: include)
                }
            }) ?? []
    }

    /// The event log, oldest first; only one association's events when `association` is given.
    public func events(for association: AssociationID? = nil) async -> [EngineEvent] {
        let core = self.core
        let all = (try? await onLoop { core.events.elements }) ?? []
        return association.map { id in all.filter { $0.association == id } } ?? all
    }

    /// Forgets closed and failed associations; returns how many.
    @discardableResult
    public func prune() async -> Int {
        let core = self.core
        return
            (try? await onLoop { () -> Int in
                let before = core.associations.count
                core.associations = core.associations.filter { !$0.value.state.isFinal }
                return before - core.associations.count
            }) ?? 0
    }

    /// Forgets one ended (closed or failed) association; a live one stays (close it first).
    /// Returns whether it was forgotten.
    @discardableResult
    public func forget(_ id: AssociationID) async -> Bool {
        let core = self.core
        return
            (try? await onLoop { () -> Bool in
                guard core.associations[id]?.state.isFinal == true else { return false }
                core.associations[id] = nil
                return true
            }) ?? false
    }

    /// The server and the family an association was opened with (to open another like it).
    func definition(of id: AssociationID) async -> (ServerDefinition, AddressFamily)? {
        let core = self.core
        return (try? await onLoop { core.associations[id].map { ($0.server, $0.family) } }) ?? nil
    }

    /// Adds a line to the event log (what the TUI's Log pane shows), from the engine's extensions.
    func log(_ level: EngineEvent.Level, _ id: AssociationID?, _ message: String) async {
        let core = self.core
        _ = try? await onLoop { core.log(level, id, message) }
    }

    /// Runs `body` on the engine's loop. The only way that fails is an engine already shut down.
    func onLoop<T: Sendable>(_ body: @escaping @Sendable () -> T) async throws(EngineError) -> T {
        guard !stopped.withLockedValue({ $0 }) else { throw .invalidArgument("the engine has been shut down") }
        do {
            return try await core.loop.submit(body).get()
        } catch {
            throw .invalidArgument("the engine has been shut down")
        }
    }

    /// Closes every association and stops the engine's thread.
    public func shutdown() async {
        // Only the first call does the work; later ones (and every request after) answer at once.
        guard
            stopped.withLockedValue({ was in
                defer { was = true }
                return !was
            }) == true
        else { return }
        let core = self.core
        let closing = try? await core.loop.submit { () -> [EventLoopFuture<Void>] in
            core.associations.values.compactMap { a -> [EventLoopFuture<Void>]? in
                let futures = [a.control?.closeFuture, a.data?.closeFuture].compactMap { $0 }
                a.transition(to: .closed(reason: "engine shut down"))
                return futures
            }.flatMap { $0 }
        }.get()
        for f in closing ?? [] { try? await f.get() }
        try? await group.shutdownGracefully()
    }
}

/// The engine's state, confined to its event loop.
final class EngineCore: @unchecked Sendable {
    let loop: EventLoop
    var associations: [AssociationID: Association] = [:]
    var events: RingBuffer<EngineEvent>
    let captureMode: CaptureMode
    /// This engine's number among those writing one capture file (CaptureFile.registerEngine).
    let captureEngineNumber: Int
    private var nextID = 1

    init(loop: EventLoop, eventLogCapacity: Int, capture: CaptureMode) {
        self.loop = loop
        events = RingBuffer(capacity: eventLogCapacity)
        captureMode = capture
        if case .file(let file) = capture {
            captureEngineNumber = file.registerProducer()
        } else {
            captureEngineNumber = 1
        }
    }

    func log(_ level: EngineEvent.Level, _ id: AssociationID?, _ message: String) {
        events.append(EngineEvent(time: Date(), level: level, association: id, message: message))
    }

    /// Binds the data socket first, so that the request can declare its port (the server's
    /// `declare` policy), then connects the control connection and runs the handshake.
    func open(
        server: ServerDefinition,
        endpoint: IPEndpoint,
        otherAddresses: [IPAddress],
        family: AddressFamily,
        group: EventLoopGroup
    ) -> AssociationID {
        let id = AssociationID(nextID)
        nextID += 1
        let association = Association(id: id, server: server, family: family, engine: self, eventLoop: loop)
        associations[id] = association
        association.startCapture(captureMode)
        log(
            .info,
            id,
            "opening through \(server.name) (\(endpoint)), \(family) rendezvous requested, declaring \(server.declare)"
        )
        bindDataSocket(for: association) { [self] port in
            connectControl(association, endpoint: endpoint, otherAddresses: otherAddresses, dataSocketPort: port)
        }
        return id
    }

    private func connectControl(
        _ association: Association,
        endpoint: IPEndpoint,
        otherAddresses: [IPAddress],
        dataSocketPort: UInt16
    ) {
        let server = association.server
        let family = association.family
        let timeout = TimeAmount.milliseconds(Int64(server.handshakeTimeoutMilliseconds))
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(.milliseconds(Int64(server.connectTimeoutMilliseconds)))
            .channelInitializer { [self] channel in
                let handler = ControlConnectionHandler(
                    timeout: timeout,
                    makeMachine: { local in
                        let declared = server.declare.declaration(
                            family: family,
                            dataSocketPort: dataSocketPort,
                            controlLocal: IPEndpoint(local)?.address
                        )
                        association.declared = declared
                        return ClientHandshake(
                            command: .udpAssociate,
                            address: declared,
                            credentials: server.credentials,
                            pipelining: server.pipelining
                        )
                    },
                    report: { [self] event in
                        self.handle(event, association: association, endpoint: endpoint, otherAddresses: otherAddresses)
                    },
                    observe: association.capturing == nil ? nil : { association.captureControl($0) }
                )
                return channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) }
            }
        bootstrap.connect(to: endpoint.nioAddress).whenComplete { [self] result in
            switch result {
            case .success(let channel):
                association.control = channel
                association.controlLocal = IPEndpoint(channel.localAddress)
                association.controlRemote = IPEndpoint(channel.remoteAddress)
                if association.state.isFinal { channel.close(promise: nil) }
            case .failure(let error):
                association.transition(
                    to: .failed(DecodedFailure(.system(Self.errnoValue(error), "connect to \(endpoint)")))
                )
            }
        }
    }

    private func handle(
        _ event: ControlConnectionHandler.Event,
        association: Association,
        endpoint: IPEndpoint,
        otherAddresses: [IPAddress]
    ) {
        switch event {
        case .progressed(let state):
            association.transition(to: state)
        case .established(let reply):
            do {
                association.rendezvous = try RendezvousAddress(
                    reply: reply.boundAddress,
                    server: association.controlRemote ?? endpoint,
                    serverAddresses: otherAddresses
                )
            } catch {
                association.transition(to: .failed(DecodedFailure(error)))
                return
            }
            if association.data == nil {
                let closed = SOCKS5Error.system(EBADF, "the data socket closed during the handshake")
                association.transition(to: .failed(DecodedFailure(closed)))
                return
            }
            association.transition(to: .associated)
        case .failed(let error):
            association.transition(to: .failed(DecodedFailure(error)))
        case .closed(let reason):
            association.transition(to: .closed(reason: reason))
        case .unexpectedBytes(let n):
            log(
                .warning,
                association.id,
                "the server sent \(n) unexpected byte(s) on the control connection after the reply"
            )
        }
    }

    /// The data socket: dual-stack ([::]:0, IPV6_V6ONLY off) so that it reaches a rendezvous of
    /// either family, which the server chooses; IPv4 only on a host without IPv6.
    private func bindDataSocket(for association: Association, then: @escaping (UInt16) -> Void) {
        func bind(_ family: AddressFamily) -> EventLoopFuture<Channel> {
            var bootstrap = DatagramBootstrap(group: loop)
                // NIO's default receive buffer (2,048 bytes) would cut larger datagrams without a
                // word: the configured size, and a datagram that fills it is dropped as oversize
                // (RelayDatagramHandler). A power of two wastes nothing (ByteBuffer rounds up).
                .channelOption(
                    .recvAllocator,
                    value: FixedSizeRecvByteBufferAllocator(capacity: association.server.receiveBufferBytes)
                )
            if family == .ipv6 { bootstrap = bootstrap.channelOption(.ipOption(.ipv6_v6only), value: 0) }
            return
                bootstrap
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(RelayDatagramHandler(association: association))
                    }
                }
                .bind(to: IPEndpoint(.unspecified(family), port: 0).nioAddress)
        }
        bind(.ipv6).flatMapError { _ in bind(.ipv4) }.whenComplete { result in
            switch result {
            case .success(let channel):
                guard !association.state.isFinal else {
                    channel.close(promise: nil)
                    return
                }
                association.data = channel
                association.dataSocketLocal = IPEndpoint(channel.localAddress)
                then(association.dataSocketLocal?.port ?? 0)
            case .failure(let error):
                let failure = SOCKS5Error.system(Self.errnoValue(error), "bind the data socket")
                association.transition(to: .failed(DecodedFailure(failure)))
            }
        }
    }

    func send(
        _ id: AssociationID,
        to target: SOCKSAddress,
        payload: [UInt8]
    ) -> Result<EventLoopFuture<Void>, EngineError> {
        guard let association = associations[id] else { return .failure(.unknownAssociation(id)) }
        guard association.state == .associated, let channel = association.data,
            let relay = association.rendezvous?.asUsed,
            let relayAddress = association.relayAddress
        else {
            return .failure(.notAssociated(id, state: association.state.name))
        }
        let header = UDPDatagramHeader(address: target)
        guard header.encodedLength + payload.count <= UDPLimits.maximumPayload(relay.family) else {
            return .failure(
                .invalidArgument(
                    "\(payload.count) bytes plus the \(header.encodedLength)-byte header exceed the UDP maximum "
                        + "for \(relay.family)"
                )
            )
        }
        var buffer = channel.allocator.buffer(capacity: header.encodedLength + payload.count)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: header.encodedLength) { header.write(into: $0) }
        buffer.writeBytes(payload)
        let view = buffer.readableBytesView.dropFirst(header.encodedLength)
        let future = channel.writeAndFlush(AddressedEnvelope(remoteAddress: relayAddress, data: buffer))
        future.whenComplete { result in
            switch result {
            case .success:
                association.recordSent(to: target, payload: view)
                association.captureSent(
                    datagram: buffer,
                    headerLength: header.encodedLength,
                    to: target,
                    relay: relay
                )
            case .failure(let error): association.recordSendError(error)
            }
        }
        return .success(future)
    }

    func startProbe(_ id: AssociationID, target: IPEndpoint?, interval: TimeAmount) -> Result<Void, EngineError> {
        guard let association = associations[id] else { return .failure(.unknownAssociation(id)) }
        guard association.state == .associated else {
            return .failure(.notAssociated(id, state: association.state.name))
        }
        guard let target = target ?? association.server.echo else {
            return .failure(.invalidArgument("server '\(association.server.name)' has no echo target: give one"))
        }
        let probe = HealthProbe(target: target, interval: interval, associationID: id.value)
        association.replaceProbe(with: probe)
        probe.start(on: loop) { [self] payload in _ = self.send(id, to: .ip(target), payload: payload) }
        log(.info, id, "probing \(target) every \(interval.nanoseconds / 1_000_000) ms")
        return .success(())
    }

    static func errnoValue(_ error: Error) -> Int32 { NIOErrorNumber.of(error) }

    static func describe(_ error: Error) -> String { NIOErrorNumber.describe(error) }
}
