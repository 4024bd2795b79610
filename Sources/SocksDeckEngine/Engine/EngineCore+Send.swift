import NIOCore
import Socks5

/// The send path: the header and the payload written into the association's pooled buffer, one
/// write, the counters. With nobody waiting (the health probe, replay) it makes no allocation:
/// no promise, no buffer, no closure (DatagramPathAllocationTests pins it).
extension EngineCore {
    /// Sends `payload` to `target` through the association; the future completes when the
    /// datagram is written (or failed), after the counters have taken it.
    /// `fragment`: the header's FRAG byte, which only the capability probe sets (to see whether a
    /// relay drops fragments, as RFC 1928 allows).
    func send(
        _ id: AssociationID,
        to target: SOCKSAddress,
        payload: [UInt8],
        fragment: UInt8 = 0
    ) -> Result<EventLoopFuture<Void>, EngineError> {
        let promise = loop.makePromise(of: Void.self)
        if let error = send(
            id,
            to: target,
            payloadLength: payload.count,
            fragment: fragment,
            promise: promise,
            { $0.writeBytes(payload) }
        ) {
            return .failure(error)
        }
        return .success(promise.futureResult)
    }

    /// Writes one datagram of `payloadLength` bytes, which `writePayload` appends to the buffer
    /// after the header. With a `promise` the counters take the datagram when the write
    /// completes; without one, when it is handed to the socket (a write the socket then refuses,
    /// EHOSTUNREACH, is dropped by NIO without a word: a probe's datagram then counts as lost).
    /// Returns the error, having failed the promise with it, when nothing was sent.
    @discardableResult
    func send(
        _ id: AssociationID,
        to target: SOCKSAddress,
        payloadLength: Int,
        fragment: UInt8 = 0,
        promise: EventLoopPromise<Void>?,
        _ writePayload: (inout ByteBuffer) -> Void
    ) -> EngineError? {
        guard let association = associations[id] else {
            return failed(.unknownAssociation(id), promise)
        }
        guard association.state == .associated, let channel = association.data,
            let relay = association.rendezvous?.asUsed,
            let relayAddress = association.relayAddress
        else {
            return failed(.notAssociated(id, state: association.state.description), promise)
        }
        if let tooLarge = UDPLimits.tooLarge(payloadLength, to: target, over: relay.family) {
            association.recordRefusedSend(tooLarge)
            return failed(.invalidArgument(tooLarge), promise)
        }
        let header = UDPDatagramHeader(fragment: fragment, address: target)
        var buffer = association.sendBuffers.take(capacity: header.encodedLength + payloadLength, channel.allocator)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: header.encodedLength) { header.write(into: $0) }
        writePayload(&buffer)
        let datagram = buffer
        let envelope = AddressedEnvelope(remoteAddress: relayAddress, data: datagram)
        func counted() {
            association.recordSent(datagram: datagram, headerLength: header.encodedLength, to: target, relay: relay)
        }
        if let promise {
            promise.futureResult.assumeIsolated().whenComplete { result in
                switch result {
                case .success: counted()
                case .failure(let error): association.recordSendError(error)
                }
            }
        }
        // Within a read the write waits for the read's end (SendBuffers): one flush, one sendmmsg.
        if association.sendBuffers.written(buffer) {
            channel.writeAndFlush(envelope, promise: promise)
        } else {
            channel.write(envelope, promise: promise)
        }
        if promise == nil { counted() }
        return nil
    }

    private func failed(_ error: EngineError, _ promise: EventLoopPromise<Void>?) -> EngineError {
        promise?.fail(error)
        return error
    }
}
