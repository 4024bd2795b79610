import NIOCore
import NIOPosix
import Socks5
import Socks5NIO

/// SocksDeck's own SOCKS5 server: CONNECT and UDP ASSOCIATE (RFC 1928), RFC 1929 when asked,
/// BIND answered with REP 7. Small enough to read and trust while debugging a client.
package final class RelayServer: Sendable {
    package let configuration: RelayConfiguration
    /// Where it listens (ports resolved when 0 was asked for).
    package let listening: [IPEndpoint]
    private let channels: [Channel]
    private let statisticsBox: StatisticsBox
    private let group: EventLoopGroup

    private init(
        configuration: RelayConfiguration,
        listening: [IPEndpoint],
        channels: [Channel],
        statistics: StatisticsBox,
        group: EventLoopGroup
    ) {
        self.configuration = configuration
        self.listening = listening
        self.channels = channels
        self.statisticsBox = statistics
        self.group = group
    }

    package var statistics: RelayStatistics { statisticsBox.value }

    /// Binds every listen address and starts serving on `group`.
    package static func start(
        _ configuration: RelayConfiguration,
        group: EventLoopGroup,
        log: @escaping @Sendable (RelayEvent) -> Void = { _ in }
    ) async throws -> RelayServer {
        let statistics = StatisticsBox()
        let admission = ClientAdmission(limits: configuration.clientLimits)
        let captures = configuration.capture.map(RelayCaptures.init(sink:))
        var channels: [Channel] = []
        var bound: [IPEndpoint] = []
        do {
            for address in configuration.listen {
                let channel = try await ServerBootstrap(group: group)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    // The kernel's cap (net.core.somaxconn) rather than NIO's 256: a burst of
                    // connections faster than the loop accepts would otherwise have SYNs dropped
                    // and retried a second later (measured: 3,000 connects took 21 s, not 0.3 s).
                    .serverChannelOption(.backlog, value: 4096)
                    // At IPPROTO_TCP: `.socketOption` would set TCP_NODELAY's number (1) at
                    // SOL_SOCKET, where it is SO_DEBUG, which only CAP_NET_ADMIN may turn on.
                    .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                    .childChannelOption(.allowRemoteHalfClosure, value: true)
                    .childChannelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(
                                SOCKSServerHandler(
                                    configuration: configuration,
                                    statistics: statistics,
                                    admission: admission,
                                    captures: captures,
                                    log: log
                                )
                            )
                        }
                    }
                    .bind(to: address.nioAddress).get()
                channels.append(channel)
                // After NIO's AcceptHandler, which reports towards the tail (a server channel
                // initializer's handlers would sit before it and never hear).
                try await channel.pipeline.addHandler(AcceptErrorLogger(log: log))
                let actual = IPEndpoint(channel.localAddress) ?? address
                bound.append(actual)
                log(
                    RelayEvent(
                        kind: .listening,
                        client: nil,
                        message: "listening on \(actual)"
                            + (configuration.credentials == nil ? "" : ", username/password required")
                            + (configuration.udpEnabled ? "" : ", UDP ASSOCIATE refused (--no-udp)")
                            + (configuration.latency > .zero
                                ? ", \(configuration.latency.words) of latency each way" : "")
                            + (configuration.cutDatagramsAt.map { ", datagrams cut to \($0) bytes" } ?? "")
                    )
                )
            }
        } catch {
            for c in channels { try? await c.close() }
            throw ListenFailure(address: configuration.listen[channels.count], error: error)
        }
        return RelayServer(
            configuration: configuration,
            listening: bound,
            channels: channels,
            statistics: statistics,
            group: group
        )
    }

    /// Stops listening. Associations in progress end with their control connections.
    package func stop() async {
        for c in channels { try? await c.close() }
    }
}

/// An address that could not be listened on, with the system's reason in the catalogue's words
/// ("cannot listen on 127.0.0.1:1080: EADDRINUSE: The local address is already in use.").
package struct ListenFailure: Error, CustomStringConvertible {
    package var address: IPEndpoint
    package var errnoValue: Int32

    package init(address: IPEndpoint, error: Error) {
        self.address = address
        errnoValue = NIOErrorNumber.of(error)
    }

    package var description: String {
        let d = ErrorCatalogue.decode(errno: errnoValue)
        var text = "cannot listen on \(address): \(d.name): \(d.sentence)"
        if errnoValue == EADDRINUSE { text += " Another process listens there: pick another port, or stop it." }
        if errnoValue == EADDRNOTAVAIL { text += " No interface of this machine has that address." }
        return text
    }
}

/// A UDP echo target: every datagram goes back to its source. For probes and the demo.
package final class UDPEchoService: Sendable {
    package let listening: IPEndpoint
    private let channel: Channel

    private init(listening: IPEndpoint, channel: Channel) {
        self.listening = listening
        self.channel = channel
    }

    package static func start(on address: IPEndpoint, group: EventLoopGroup) async throws -> UDPEchoService {
        // recvmmsg of up to 32 datagrams (slots of 64 KiB: no datagram is cut), replies flushed
        // once per read (sendmmsg): the echo target must not be what a benchmark measures.
        let bootstrap = DatagramBootstrap(group: group)
            .channelOption(.datagramVectorReadMessageCount, value: 32)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 32 * 65_536))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(EchoHandler()) }
            }
        let channel: Channel
        do { channel = try await bootstrap.bind(to: address.nioAddress).get() } catch {
            throw ListenFailure(address: address, error: error)
        }
        return UDPEchoService(listening: IPEndpoint(channel.localAddress) ?? address, channel: channel)
    }

    package func stop() async { try? await channel.close() }

    private final class EchoHandler: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        typealias OutboundOut = AddressedEnvelope<ByteBuffer>
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            context.write(
                wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: envelope.data)),
                promise: nil
            )
        }
        func channelReadComplete(context: ChannelHandlerContext) { context.flush() }
        func errorCaught(context: ChannelHandlerContext, error: Error) {}
    }
}
