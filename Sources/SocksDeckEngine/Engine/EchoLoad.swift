import Foundation
import NIOCore
import Socks5

/// What an echo load measured: how many datagrams went through the relay to the echo target
/// and back, and how fast.
package struct EchoMeasurement: Sendable, Equatable {
    package var sent: Int
    package var echoed: Int
    /// From the first send to the last echo.
    package var elapsed: Duration
    /// Sent and never echoed (lost, or still on their way when the load gave up).
    package var lost: Int { sent - echoed }
    package var echoesPerSecond: Double { elapsed > .zero ? Double(echoed) / (elapsed / .seconds(1)) : 0 }
}

/// `count` datagrams of `payloadLength` bytes to an echo target with `window` in flight: each echo
/// sends the next. It ends when every datagram is echoed, when no echo came for `stall` (the rest
/// count as lost), or with the association. Confined to the engine's event loop; it follows its
/// association as a subscriber.
final class EchoLoad: AssociationSubscriber {
    static let magic: [UInt8] = Array("SDLOAD01".utf8)

    let target: IPEndpoint
    private let count: Int
    private let window: Int
    let payloadLength: Int
    private let associationID: Int
    private let stall: TimeAmount
    private var sent = 0
    private var echoed = 0
    /// The sequence numbers in flight: an echo counts once, and only if it was sent.
    private var inFlight = Set<UInt64>()
    private let started = NIODeadline.now()
    private var lastEcho = NIODeadline.now()
    private var watchdog: Scheduled<Void>?
    private let done: EventLoopPromise<EchoMeasurement>
    private var sendOne: ((UInt64) -> Void)?

    init(
        target: IPEndpoint,
        count: Int,
        window: Int,
        payloadLength: Int,
        stall: TimeAmount,
        association: Int,
        done: EventLoopPromise<EchoMeasurement>
    ) {
        self.target = target
        self.count = count
        self.window = window
        self.payloadLength = payloadLength
        self.stall = stall
        self.associationID = association
        self.done = done
        inFlight.reserveCapacity(window)
    }

    func start(on loop: EventLoop, send: @escaping (UInt64) -> Void) {
        sendOne = send
        while sent < min(window, count), sendOne != nil { sendNext() }
        watch(loop)
    }

    func writePayload(_ sequence: UInt64, into buffer: inout ByteBuffer) {
        TaggedPayload.write(
            magic: Self.magic,
            association: associationID,
            sequence: sequence,
            length: payloadLength,
            into: &buffer
        )
    }

    func association(_ id: AssociationID, received payload: ByteBufferView, from sender: SOCKSAddress) {
        guard payload.count == payloadLength,
            let seq = TaggedPayload.sequence(in: payload, magic: Self.magic, association: associationID),
            inFlight.remove(seq) != nil
        else { return }
        echoed += 1
        lastEcho = .now()
        if sent < count {
            sendNext()
        } else if inFlight.isEmpty {
            finish()
        }
    }

    func association(_ id: AssociationID, settledAs state: ControlConnectionState) {
        if state.isFinal { finish() }
    }

    /// Ends the load (the association ended, or it stalled), with what it measured so far.
    func finish() {
        guard sendOne != nil else { return }
        sendOne = nil
        watchdog?.cancel()
        let elapsed = echoed == 0 ? .zero : Duration(lastEcho - started)
        done.succeed(EchoMeasurement(sent: sent, echoed: echoed, elapsed: elapsed))
    }

    private func sendNext() {
        sent += 1
        let seq = UInt64(sent)
        inFlight.insert(seq)
        sendOne?(seq)
    }

    private func watch(_ loop: EventLoop) {
        guard sendOne != nil else { return }
        watchdog = loop.assumeIsolated().scheduleTask(in: stall) { [self] in
            if NIODeadline.now() - lastEcho >= stall { finish() } else { watch(loop) }
        }
    }
}

extension EngineCore {
    func startEchoLoad(
        _ id: AssociationID,
        target: IPEndpoint?,
        count: Int,
        window: Int,
        payloadLength: Int,
        stall: TimeAmount,
        gathering: TimeAmount? = nil
    ) -> Result<EventLoopFuture<EchoMeasurement>, EngineError> {
        guard let association = associations[id] else { return .failure(.unknownAssociation(id)) }
        guard association.state == .associated else {
            return .failure(.notAssociated(id, state: association.state.description))
        }
        guard let target = target ?? association.server.echo else {
            return .failure(.invalidArgument("server '\(association.server.name)' has no echo target: give one"))
        }
        guard association.subscribers(of: EchoLoad.self).isEmpty else {
            return .failure(.invalidArgument("association \(id) is already running an echo load"))
        }
        // Refused before the first datagram: a load must never count as lost what it did not send.
        if let relay = association.rendezvous?.asUsed,
            let tooLarge = UDPLimits.tooLarge(payloadLength, to: .ip(target), over: relay.family)
        {
            return .failure(.invalidArgument(tooLarge))
        }
        let promise = loop.makePromise(of: EchoMeasurement.self)
        let load = EchoLoad(
            target: target,
            count: count,
            window: window,
            payloadLength: payloadLength,
            stall: stall,
            association: id.value,
            done: promise
        )
        association.subscribe(load)
        association.gatherReads(gathering)
        promise.futureResult.assumeIsolated().whenComplete { _ in
            association.unsubscribe(load)
            association.gatherReads(nil)
        }
        // Nobody waits for each datagram: no promise, and the payload written in place.
        load.start(on: loop) { [self] sequence in
            let failed = send(id, to: .ip(target), payloadLength: payloadLength, promise: nil) {
                load.writePayload(sequence, into: &$0)
            }
            if failed != nil { load.finish() }
        }
        return .success(promise.futureResult)
    }
}

extension SessionEngine {
    /// Sends `count` datagrams of `payloadLength` bytes (at least 24) through the association to
    /// an echo target (the server's configured one by default), `window` at a time, each echo
    /// sending the next, and says how many came back and how fast: what the relay carries.
    /// Gives up when no echo came for `stall`. One load per association at a time.
    ///
    /// With `gathering`, a read that found less than a batch waits that long before the next, so
    /// that echoes a relay hands back one at a time are read and answered several at once: less
    /// CPU per datagram, up to that much more per round trip (`socksdeck load --gather`).
    package func measureEcho(
        _ id: AssociationID,
        to target: IPEndpoint? = nil,
        count: Int,
        window: Int = 32,
        payloadLength: Int = 64,
        stall: Duration = .seconds(1),
        gathering: Duration? = nil
    ) async throws(EngineError) -> EchoMeasurement {
        guard count >= 1 else { throw .invalidArgument("count must be at least 1") }
        guard window >= 1 else { throw .invalidArgument("window must be at least 1") }
        guard payloadLength >= TaggedPayload.headerLength else {
            throw .invalidArgument("payload must be at least \(TaggedPayload.headerLength) bytes (it carries a tag)")
        }
        let stallTime = TimeAmount(stall)
        let pause = gathering.map { TimeAmount($0) }
        let started = try await onLoop { core in
            core.startEchoLoad(
                id,
                target: target,
                count: count,
                window: window,
                payloadLength: payloadLength,
                stall: stallTime,
                gathering: pause
            )
        }
        switch started {
        case .success(let future):
            do { return try await future.get() } catch { throw .shutDown }
        case .failure(let error): throw error
        }
    }
}
