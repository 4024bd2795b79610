import NIOCore
import NIOPosix
import Socks5
import Socks5NIO

/// A client's UDP data socket on SwiftNIO, bound the one way the engine's associations and the
/// capability probe share: before the request, so that the request can declare its port.
enum DataSocketChannel {
    /// Dual-stack ([::]:0, IPV6_V6ONLY off) so that it reaches a rendezvous of either family,
    /// which the server chooses; IPv4 only on a host without IPv6 (the blocking layer's
    /// `DataSocket.open` decides the same way).
    ///
    /// NIO's default receive buffer (2,048 bytes) would cut larger datagrams without a word:
    /// `receiveBufferBytes` instead, and a reader drops a datagram that fills it as oversize
    /// (`DatagramFilter`). A power of two wastes nothing (ByteBuffer rounds up).
    static func bind(
        on loop: EventLoop,
        receiveBufferBytes: Int,
        handler makeHandler: @escaping @Sendable () -> any ChannelHandler
    ) -> EventLoopFuture<Channel> {
        @Sendable func bind(_ family: AddressFamily) -> EventLoopFuture<Channel> {
            var bootstrap = DatagramBootstrap(group: loop)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: receiveBufferBytes))
                // Every datagram queued is read on one wake-up (NIO stops at the first empty
                // read), so that what they send goes out in one flush (SendBuffers).
                .channelOption(.maxMessagesPerRead, value: UInt(SendBuffers.mostHeld))
            // At IPPROTO_IPV6: `.ipOption` would put IPV6_V6ONLY's number (26) at IPPROTO_IP, where
            // it is IP_RECVERR_RFC4884. NIO turns V6ONLY off for every inet6 socket too; saying it
            // here keeps the decision ours.
            if family == .ipv6 {
                bootstrap = bootstrap.channelOption(.socket(SocketOptionLevel(IPPROTO_IPV6), IPV6_V6ONLY), value: 0)
            }
            return
                bootstrap
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(makeHandler())
                    }
                }
                .bind(to: IPEndpoint(.unspecified(family), port: 0).nioAddress)
        }
        return bind(.ipv6).flatMapError { _ in bind(.ipv4) }
    }

    /// The most datagrams one recvmmsg reads: an association's while it gathers, a forward's
    /// local socket's always.
    static let batchReadCount = 32

    /// Switches a bound data socket between one datagram per read (recvmsg) and batches of
    /// `batchReadCount` (recvmmsg), on its own loop. NIO cuts its receive buffer into equal
    /// slices for a batch, so each slice is the configured size and no datagram arrives cut:
    /// 32 × 64 KiB while batching. NIO's pool keeps that buffer afterwards; ReceiveBufferPages
    /// gives its pages back after the next small datagram.
    static func readInBatches(_ channel: Channel, _ batches: Bool, receiveBufferBytes: Int) {
        let count = batches ? batchReadCount : 0
        let allocator = FixedSizeRecvByteBufferAllocator(capacity: receiveBufferBytes * max(count, 1))
        // Both or neither: a batch in a buffer of one slice would cut every datagram.
        try? channel.syncOptions?.setOption(.recvAllocator, value: allocator)
        try? channel.syncOptions?.setOption(.datagramVectorReadMessageCount, value: count)
    }

}
