import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Socks5
import Socks5NIO

/// The probe's connections and sockets, on the engine's event loop: awaited by the probe's
/// checks, never blocking a thread.
extension CapabilityProbe {
    /// A TCP connection for the one exchange no handshake machine makes: a greeting that offers a
    /// single method, to see what the server selects.
    struct OfferConnection {
        let channel: Channel
        let inbox: ProbeInbox<ByteBuffer>

        /// Connects, or gives the connect's errno.
        static func connect(
            to endpoint: IPEndpoint,
            on loop: EventLoop,
            timeout: TimeAmount
        ) async -> Result<
            OfferConnection, SOCKS5Error
        > {
            let inbox = ProbeInbox<ByteBuffer>(loop: loop)
            do {
                let channel = try await ClientBootstrap(group: loop)
                    .connectTimeout(timeout)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(inbox) }
                    }
                    .connect(to: endpoint.nioAddress).get()
                return .success(OfferConnection(channel: channel, inbox: inbox))
            } catch {
                return .failure(.system(NIOErrorNumber.of(error), "connect to \(endpoint)"))
            }
        }

        func write(_ bytes: [UInt8]) {
            channel.writeAndFlush(channel.allocator.buffer(bytes: bytes), promise: nil)
        }

        /// Up to `count` bytes, fewer when the server closes or `timeout` passes first.
        func read(_ count: Int, within timeout: TimeAmount) async -> (bytes: [UInt8], closed: Bool) {
            let deadline = NIODeadline.now() + timeout
            var bytes: [UInt8] = []
            while bytes.count < count {
                switch await inbox.next(within: deadline - .now()) {
                case .item(let buffer): bytes += buffer.readableBytesView
                case .ended: return (bytes, true)
                case .timedOut: return (bytes, false)
                }
            }
            return (bytes, false)
        }
    }

    /// A control connection whose handshake the engine's `ControlConnectionHandler` drives with
    /// the library's machine, as it does for the engine's associations: the reply, or the error.
    struct ControlConnection {
        let channel: Channel
        let reply: SOCKSReply

        static func open(
            to endpoint: IPEndpoint,
            on loop: EventLoop,
            timeout: TimeAmount,
            stream: ProbeCapture.Stream?,
            machine: @escaping @Sendable (_ local: IPEndpoint?) -> ClientHandshake
        ) async throws(SOCKS5Error) -> ControlConnection {
            let outcome = loop.makePromise(of: SOCKSReply.self)
            let channel: Channel
            do {
                channel = try await ControlConnectionHandler.connect(to: endpoint, on: loop, connectTimeout: timeout) {
                    ControlConnectionHandler(
                        timeout: timeout,
                        timeoutSetting: nil,
                        makeMachine: { local in machine(IPEndpoint(local)) },
                        report: { event in
                            switch event {
                            case .established(let reply), .bound(let reply): outcome.succeed(reply)
                            case .failed(let error): outcome.fail(error)
                            case .closed, .progressed, .unexpectedBytes: break
                            }
                        },
                        observe: stream.map { stream in { stream.observe($0) } }
                    )
                }.get()
            } catch {
                // The handler never ran: the promise is failed here, or NIO reports it leaked.
                let failure = SOCKS5Error.system(NIOErrorNumber.of(error), "connect to \(endpoint)")
                outcome.fail(failure)
                throw failure
            }
            do {
                return ControlConnection(channel: channel, reply: try await outcome.futureResult.get())
            } catch {
                channel.close(promise: nil)
                throw error as? SOCKS5Error ?? .system(NIOErrorNumber.of(error), "the handshake with \(endpoint)")
            }
        }
    }
}
