import Foundation
import NIOCore
import Socks5

/// A reply to a request sent through an association: what the protocol checks (DNS, NTP, STUN)
/// are built on.
public struct ExchangeReply: Sendable {
    /// The sender as the relay's SOCKS5 UDP header names it (which some relays get wrong: STUN's
    /// RESPONSE-ORIGIN is the one to trust).
    public var from: SOCKSAddress
    public var payload: [UInt8]
    /// From the last send before the reply came (after a resend, the first send's time would
    /// count the lost request too).
    public var roundTrip: Duration
    /// How many times the request was sent.
    public var sends: Int
    /// The wall-clock times of the last send and of the reply's arrival, taken on the engine's
    /// loop next to the socket: NTP's T1 and T4 (the caller's own clock readings would add the
    /// hops to and from the loop to the delay).
    public var sentAt: Date
    public var arrivedAt: Date
}

/// A request waiting for its reply, on the engine's loop: every datagram the association
/// receives is offered to it before anything else looks at it.
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

extension Association {
    /// Offers a received datagram to the waiting exchanges; true when one took it.
    func offerToExchanges(from sender: SOCKSAddress, payload: ByteBufferView) {
        guard !exchanges.isEmpty else { return }
        let bytes = Array(payload)
        // Oldest first, and never one not sent yet: nothing can answer a request before it left.
        guard
            let index = exchanges.firstIndex(where: {
                $0.sends > 0 && ($0.expectedSender.map { $0 == sender } ?? true) && $0.accepts(bytes)
            })
        else { return }
        let exchange = exchanges.remove(at: index)
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

    /// Ends every waiting exchange without a reply (the association ended).
    func abandonExchanges() {
        let waiting = exchanges
        exchanges = []
        for e in waiting { e.finish(nil) }
    }
}

extension EngineCore {
    func exchange(
        _ id: AssociationID,
        to target: SOCKSAddress,
        request: [UInt8],
        sendAt: [TimeAmount],
        giveUpAt: TimeAmount,
        accepts: @escaping @Sendable ([UInt8]) -> Bool
    ) -> Result<EventLoopFuture<ExchangeReply?>, EngineError> {
        guard let association = associations[id] else { return .failure(.unknownAssociation(id)) }
        guard association.state == .associated else {
            return .failure(.notAssociated(id, state: association.state.description))
        }
        let pending = PendingExchange(accepts: accepts, promise: loop.makePromise())
        association.exchanges.append(pending)
        for at in sendAt {
            pending.timers.append(
                loop.assumeIsolated().scheduleTask(in: at) { [self] in
                    pending.lastSend = .now()
                    pending.lastSendWall = Date()
                    pending.sends += 1
                    _ = send(id, to: target, payload: request)
                }
            )
        }
        pending.timers.append(
            loop.assumeIsolated().scheduleTask(in: giveUpAt) { [weak association] in
                association?.exchanges.removeAll { $0 === pending }
                pending.finish(nil)
            }
        )
        return .success(pending.promise.futureResult)
    }
}
