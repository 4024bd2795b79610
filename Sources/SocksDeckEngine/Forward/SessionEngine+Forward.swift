import NIOCore
import NIOPosix
import Socks5
import Socks5NIO

extension SessionEngine {
    /// Starts a forward: listens on `spec.local` and sends what arrives there through `server` to
    /// `spec.target`, one association per local client. `report` hears every flow's opening, end and
    /// error as it happens (on the engine's loop: it must not block). Throws when the server
    /// cannot be resolved or the local address cannot be bound (in use, not this machine's).
    package func startForward(
        _ spec: ForwardSpec,
        through server: ServerDefinition,
        options: ForwardOptions = ForwardOptions(),
        report: (@Sendable (ForwardEvent) -> Void)? = nil
    ) async throws(EngineError) -> ForwardID {
        guard options.maximumFlows >= 1 else { throw .invalidArgument("a forward needs room for at least one flow") }
        guard options.idleTimeout > .zero else { throw .invalidArgument("the idle timeout must be positive") }
        let endpoint: IPEndpoint
        let otherAddresses: [IPAddress]
        do { (endpoint, otherAddresses) = try await resolve(server) } catch {
            await log(.error, nil, "forward \(spec) through \(server.name): \(error)")
            throw error
        }
        let group = self.group
        let bound = try await onLoopAwaiting { core -> EventLoopFuture<Result<ForwardID, EngineError>> in
            let id = ForwardID(core.nextForwardID)
            core.nextForwardID += 1
            let forward = Forward(
                id: id,
                spec: spec,
                server: server,
                endpoint: endpoint,
                otherAddresses: otherAddresses,
                options: options,
                core: core,
                group: group,
                report: report
            )
            let loopBound = NIOLoopBound(forward, eventLoop: core.loop)
            return DatagramBootstrap(group: core.loop)
                // An application's burst is read with one recvmmsg (no pause: a datagram alone goes
                // at once), each slot large enough for the largest UDP payload (65,527 bytes over
                // IPv6), so none is cut unseen: 2 MiB per forward.
                .channelOption(.datagramVectorReadMessageCount, value: DataSocketChannel.batchReadCount)
                .channelOption(
                    .recvAllocator,
                    value: FixedSizeRecvByteBufferAllocator(capacity: 65_536 * DataSocketChannel.batchReadCount)
                )
                .channelOption(.socketOption(.so_reuseaddr), value: 0)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ForwardListenerHandler(loopBound))
                    }
                }
                .bind(to: spec.local.nioAddress)
                .assumeIsolated()
                .map { channel -> Result<ForwardID, EngineError> in
                    loopBound.value.channel = channel
                    core.forwards[id] = loopBound.value
                    loopBound.value.startSweeping()
                    return .success(id)
                }
                .recover { error in
                    let failure = EngineError.cannotListen(
                        spec.local.description,
                        because: NIOErrorNumber.describe(error)
                    )
                    core.log(.error, nil, "forward \(spec) through \(server.name): \(failure)")
                    return .failure(failure)
                }
                .nonisolated()
        }
        return try bound.get()
    }

    /// Stops a forward: its socket closes and every flow ends with its association.
    package func stopForward(_ id: ForwardID) async {
        do {
            try await onLoopAwaiting { core in core.forwards[id]?.stop() ?? core.loop.makeSucceededVoidFuture() }
        } catch {
            // Only a shut-down engine refuses, and its shutdown stopped every forward already.
        }
    }

    /// Every forward, oldest first, with its flows.
    package func forwards() async -> [ForwardSnapshot] {
        (try? await onLoop { core in core.forwards.values.sorted { $0.id < $1.id }.map(\.snapshot) }) ?? []
    }
}
