import Foundation
import NIOCore
import Socks5

/// One datagram to replay: where it goes, what it carries, and when (after the first).
package struct ReplayDatagram: Sendable {
    package var target: SOCKSAddress
    package var payload: [UInt8]
    package var offset: Duration

    package init(target: SOCKSAddress, payload: [UInt8], offset: Duration) {
        self.target = target
        self.payload = payload
        self.offset = offset
    }
}

/// How a replay spaces its datagrams.
package enum ReplayTiming: String, Sendable, CaseIterable {
    /// As they were captured.
    case original
    /// One after another, as fast as the loop sends them.
    case fast
}

/// What became of one replayed datagram.
package struct ReplayOutcome: Sendable {
    package var index: Int
    package var target: SOCKSAddress
    package var size: Int
    /// When it was sent, after the replay began.
    package var sentAfter: Duration?
    package var reply: ExchangeReply?
}

extension SessionEngine {
    /// Sends `datagrams` through the association, spaced by `timing`, and waits up to
    /// `wait` after each for a reply from where it went (the oldest unanswered
    /// datagram to a sender takes that sender's next reply). Runs on the engine's loop: one hop
    /// for the whole replay.
    package func replay(
        _ id: AssociationID,
        _ datagrams: [ReplayDatagram],
        timing: ReplayTiming,
        wait: Duration
    ) async throws(EngineError) -> [ReplayOutcome] {
        guard !datagrams.isEmpty else { return [] }
        let started = try await onLoop { core in core.replay(id, datagrams, timing: timing, wait: TimeAmount(wait)) }
        let futures = try started.get()
        var outcomes: [ReplayOutcome] = []
        for (index, future) in futures.enumerated() {
            let (sentAfter, reply) = (try? await future.get()) ?? (nil, nil)
            let d = datagrams[index]
            outcomes.append(
                ReplayOutcome(index: index, target: d.target, size: d.payload.count, sentAfter: sentAfter, reply: reply)
            )
        }
        return outcomes
    }
}

extension EngineCore {
    func replay(
        _ id: AssociationID,
        _ datagrams: [ReplayDatagram],
        timing: ReplayTiming,
        wait: TimeAmount
    ) -> Result<[EventLoopFuture<(Duration?, ExchangeReply?)>], EngineError> {
        guard let association = associations[id] else { return .failure(.unknownAssociation(id)) }
        guard association.state == .associated else {
            return .failure(.notAssociated(id, state: association.state.description))
        }
        let start = NIODeadline.now()
        let exchanges = PendingExchanges.of(association)
        let pendings = datagrams.map { d -> PendingExchange in
            // A name has no one address a reply would name: any sender answers it.
            let sender: SOCKSAddress? = if case .ip = d.target { d.target } else { nil }
            return PendingExchange(accepts: { _ in true }, expectedSender: sender, promise: loop.makePromise())
        }
        let futures = pendings.map { pending in
            pending.promise.futureResult.assumeIsolated().map { reply -> (Duration?, ExchangeReply?) in
                let after = pending.sends > 0 ? Duration.nanoseconds((pending.lastSend - start).nanoseconds) : nil
                return (after, reply)
            }.nonisolated()
        }
        // One datagram after another: each send schedules the next, so that "fast" keeps the
        // capture's order (tasks due at one instant have no order) and "original" its spacing.
        func send(_ i: Int) {
            guard i < datagrams.count else { return }
            let pending = pendings[i]
            guard association.state == .associated else {
                for p in pendings[i...] { p.finish(nil) }
                return
            }
            exchanges.append(pending)
            pending.lastSend = .now()
            pending.lastSendWall = Date()
            pending.sends = 1
            let payload = datagrams[i].payload
            self.send(id, to: datagrams[i].target, payloadLength: payload.count, promise: nil) {
                $0.writeBytes(payload)
            }
            pending.timers.append(
                loop.assumeIsolated().scheduleTask(in: wait) { [weak exchanges] in
                    exchanges?.remove(pending)
                    pending.finish(nil)
                }
            )
            guard i + 1 < datagrams.count else { return }
            switch timing {
            case .fast:
                loop.assumeIsolated().execute { send(i + 1) }
            case .original:
                let due = start + TimeAmount(datagrams[i + 1].offset)
                loop.assumeIsolated().scheduleTask(deadline: due) { send(i + 1) }
            }
        }
        send(0)
        return .success(futures)
    }
}
