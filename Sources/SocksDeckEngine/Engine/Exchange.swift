import Foundation
import NIOCore
import Socks5

/// A reply to a request sent through an association: what the protocol checks (DNS, NTP, STUN)
/// are built on.
package struct ExchangeReply: Sendable {
    /// The sender as the relay's SOCKS5 UDP header names it (which some relays get wrong: STUN's
    /// RESPONSE-ORIGIN is the one to trust).
    package var from: SOCKSAddress
    package var payload: [UInt8]
    /// From the last send before the reply came (after a resend, the first send's time would
    /// count the lost request too).
    package var roundTrip: Duration
    /// How many times the request was sent.
    package var sends: Int
    /// The wall-clock times of the last send and of the reply's arrival, taken on the engine's
    /// loop next to the socket: NTP's T1 and T4 (the caller's own clock readings would add the
    /// hops to and from the loop to the delay).
    package var sentAt: Date
    package var arrivedAt: Date
}

/// A request waiting for its reply, on the engine's loop (PendingExchanges offers it every
/// datagram the association receives).
final class PendingExchange {
    let accepts: @Sendable ([UInt8]) -> Bool
    /// When set, only a datagram whose header names this sender is an answer (replay: a reply
    /// comes from where the datagram went).
    let expectedSender: SOCKSAddress?
    let promise: EventLoopPromise<ExchangeReply?>
    var lastSend = NIODeadline.now()
    var lastSendWall = Date()
    var sends = 0
    var timers: [Scheduled<Void>] = []

    init(
        accepts: @escaping @Sendable ([UInt8]) -> Bool,
        expectedSender: SOCKSAddress? = nil,
        promise: EventLoopPromise<ExchangeReply?>
    ) {
        self.accepts = accepts
        self.expectedSender = expectedSender
        self.promise = promise
    }

    func finish(_ reply: ExchangeReply?) {
        for t in timers { t.cancel() }
        timers = []
        promise.succeed(reply)
    }
}

/// An association's requests waiting for their replies: it subscribes to the association on
/// the first request, is offered every datagram the association receives, and ends every request
/// still waiting when the association ends.
final class PendingExchanges: AssociationSubscriber {
    private(set) var waiting: [PendingExchange] = []

    /// The association's own, made and subscribed on first use.
    static func of(_ association: Association) -> PendingExchanges {
        if let existing = association.subscribers(of: PendingExchanges.self).first { return existing }
        let made = PendingExchanges()
        association.subscribe(made)
        return made
    }

    func append(_ exchange: PendingExchange) { waiting.append(exchange) }

    func remove(_ exchange: PendingExchange) { waiting.removeAll { $0 === exchange } }

    /// Oldest first, and never one not sent yet: nothing can answer a request before it left.
    func association(_ id: AssociationID, received payload: ByteBufferView, from sender: SOCKSAddress) {
        guard !waiting.isEmpty else { return }
        let bytes = Array(payload)
        guard
            let index = waiting.firstIndex(where: {
                $0.sends > 0 && ($0.expectedSender.map { $0 == sender } ?? true) && $0.accepts(bytes)
            })
        else { return }
        let exchange = waiting.remove(at: index)
        exchange.finish(
            ExchangeReply(
                from: sender,
                payload: bytes,
                roundTrip: .nanoseconds((NIODeadline.now() - exchange.lastSend).nanoseconds),
                sends: exchange.sends,
                sentAt: exchange.lastSendWall,
                arrivedAt: Date()
            )
        )
    }

    /// The association ended: every request still waiting ends without a reply.
    func association(_ id: AssociationID, settledAs state: ControlConnectionState) {
        guard state.isFinal else { return }
        let ended = waiting
        waiting = []
        for e in ended { e.finish(nil) }
    }
}

extension EngineCore {
    func exchange(
        _ id: AssociationID,
        to target: SOCKSAddress,
        request: [UInt8],
        sendAt: [TimeAmount],
        giveUpAt: TimeAmount,
        fragment: UInt8 = 0,
        accepts: @escaping @Sendable ([UInt8]) -> Bool
    ) -> Result<EventLoopFuture<ExchangeReply?>, EngineError> {
        guard let association = associations[id] else { return .failure(.unknownAssociation(id)) }
        guard association.state == .associated else {
            return .failure(.notAssociated(id, state: association.state.description))
        }
        let pending = PendingExchange(accepts: accepts, promise: loop.makePromise())
        let exchanges = PendingExchanges.of(association)
        exchanges.append(pending)
        for at in sendAt {
            pending.timers.append(
                loop.assumeIsolated().scheduleTask(in: at) { [self] in
                    pending.lastSend = .now()
                    pending.lastSendWall = Date()
                    pending.sends += 1
                    _ = send(id, to: target, payload: request, fragment: fragment)
                }
            )
        }
        pending.timers.append(
            loop.assumeIsolated().scheduleTask(in: giveUpAt) { [weak exchanges] in
                exchanges?.remove(pending)
                pending.finish(nil)
            }
        )
        return .success(pending.promise.futureResult)
    }
}
