import Foundation
import NIOCore
import NIOPosix
import Socks5
import Socks5NIO

#if canImport(Glibc)
import Glibc
#endif

/// The engine's state, confined to its event loop.
final class EngineCore {
    let loop: EventLoop
    var associations: [AssociationID: Association] = [:] {
        didSet {
            associationsInOrder = nil
            viewRevision.advance()
        }
    }
    private(set) var events: RingBuffer<EngineEvent> {
        didSet {
            eventsInOrder = nil
            viewRevision.advance()
        }
    }
    /// Advanced by every change above and by every association's (`Association.changed`); read
    /// off the loop by SessionEngine.
    let viewRevision: ViewRevision
    /// Both read by every frame of the UI, and both change far less often than ten times a second
    /// (the set of associations, the log): sorting a thousand ids and copying the log each frame
    /// was a third of what a frame cost the engine. Kept until they change.
    private var associationsInOrder: [Association]?
    private var eventsInOrder: [EngineEvent]?
    let captureMode: CaptureMode
    /// This engine's number among those writing one capture file (CaptureFile.registerEngine).
    let captureEngineNumber: Int
    private var nextID = 1
    /// The running and stopped forwards (Forward.swift), each with its local socket and flows.
    var forwards: [ForwardID: Forward] = [:] { didSet { viewRevision.advance() } }
    var nextForwardID = 1
    /// The one timer of every health probe.
    private let probeClock: ProbeClock

    init(loop: EventLoop, viewRevision: ViewRevision, eventLogCapacity: Int, capture: CaptureMode) {
        self.loop = loop
        self.viewRevision = viewRevision
        probeClock = ProbeClock(loop: loop)
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

    /// Every association, oldest (lowest id) first.
    var orderedAssociations: [Association] {
        if let kept = associationsInOrder { return kept }
        let ordered = associations.values.sorted { $0.id < $1.id }
        associationsInOrder = ordered
        return ordered
    }

    /// The event log, oldest first.
    var orderedEvents: [EngineEvent] {
        if let kept = eventsInOrder { return kept }
        let ordered = events.elements
        eventsInOrder = ordered
        return ordered
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
        if let capturer = AssociationCapturer(captureMode, for: association, engineNumber: captureEngineNumber) {
            association.subscribe(capturer)
        }
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
        let timeout = TimeAmount(server.handshakeTimeout)
        // NIO makes the handler on the channel's loop, which is this one.
        let bound = NIOLoopBound((core: self, association: association), eventLoop: loop)
        ControlConnectionHandler.connect(
            to: endpoint,
            on: loop,
            connectTimeout: TimeAmount(server.connectTimeout)
        ) {
            let (core, association) = bound.value
            return ControlConnectionHandler(
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
                report: { event in
                    core.handle(event, association: association, endpoint: endpoint, otherAddresses: otherAddresses)
                },
                observe: association.observesWire ? { association.wire(.control($0)) } : nil
            )
        }.assumeIsolated().whenComplete { result in
            switch result {
            case .success(let channel):
                association.control = channel
                association.controlLocal = IPEndpoint(channel.localAddress)
                association.controlRemote = IPEndpoint(channel.remoteAddress)
                if association.state.isFinal { channel.close(promise: nil) }
            case .failure(let error):
                association.transition(
                    to: .failed(AssociationFailure(.system(Self.errnoValue(error), "connect to \(endpoint)")))
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
                association.transition(to: .failed(AssociationFailure(error)))
                return
            }
            if association.data == nil {
                let closed = SOCKS5Error.system(EBADF, "the data socket closed during the handshake")
                association.transition(to: .failed(AssociationFailure(closed)))
                return
            }
            association.transition(to: .associated)
        case .failed(let error):
            association.transition(to: .failed(AssociationFailure(error)))
        case .closed(let reason):
            // The control handler reports a close only for the server's end of the connection.
            association.close(because: reason, by: .server)
        case .bound:
            // Only BIND has a first reply; the engine asks for UDP ASSOCIATE.
            break
        case .unexpectedBytes(let bytes):
            association.recordControlBytesAfterReply(bytes)
        }
    }

    /// The data socket, bound as `DataSocketChannel` binds every client's.
    private func bindDataSocket(for association: Association, then: @escaping (UInt16) -> Void) {
        let bound = NIOLoopBound(association, eventLoop: loop)
        DataSocketChannel.bind(on: loop, receiveBufferBytes: association.server.receiveBufferBytes) {
            RelayDatagramHandler(association: bound.value)
        }.assumeIsolated().whenComplete { result in
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
                association.transition(to: .failed(AssociationFailure(failure)))
            }
        }
    }

    /// The association's snapshot once it is associated, failed or closed, or when `timeout`
    /// passes, whichever comes first; nil for an association the engine does not know.
    func settledSnapshot(_ id: AssociationID, within timeout: TimeAmount) -> EventLoopFuture<AssociationSnapshot?> {
        guard let settled = associations[id]?.settled.futureResult else { return loop.makeSucceededFuture(nil) }
        let promise = loop.makePromise(of: Void.self)
        var done = false
        let timer = loop.assumeIsolated().scheduleTask(in: timeout) {
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
        return promise.futureResult.assumeIsolated().map { [self] in associations[id]?.snapshot }.nonisolated()
    }

    func startProbe(_ id: AssociationID, target: IPEndpoint?, interval: TimeAmount) -> Result<Void, EngineError> {
        guard let association = associations[id] else { return .failure(.unknownAssociation(id)) }
        guard association.state == .associated else {
            return .failure(.notAssociated(id, state: association.state.description))
        }
        guard let target = target ?? association.server.echo else {
            return .failure(.invalidArgument("server '\(association.server.name)' has no echo target: give one"))
        }
        // A new probe replaces the one before, whose figures go with it.
        for old in association.subscribers(of: HealthProbe.self) {
            old.stop()
            association.unsubscribe(old)
        }
        let probe = HealthProbe(target: target, interval: interval, associationID: id.value)
        association.subscribe(probe)
        // Nobody waits for a probe's datagram: no promise, and the payload written in place.
        probe.start(on: probeClock) { [self] sequence in
            self.send(id, to: .ip(target), payloadLength: HealthProbe.payloadLength, promise: nil) {
                probe.writePayload(sequence, into: &$0)
            }
        }
        log(.info, id, "probing \(target) every \(Duration(interval).words)")
        return .success(())
    }

    static func errnoValue(_ error: Error) -> Int32 { NIOErrorNumber.of(error) }

    static func describe(_ error: Error) -> String { NIOErrorNumber.describe(error) }
}
