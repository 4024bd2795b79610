import Foundation
import NIOCore
import NIOPosix
import Socks5
import Socks5NIO
import UDPChecks

/// The demo's own DNS and STUN servers, so that `check`, `c` and `N` show real results offline: a
/// resolver for the zone socksdeck.demo, and a STUN server with RFC 5780 on 127.0.0.1 and 127.0.0.2
/// (two ports each), answering from its other address or port when asked. Only the demo uses them:
/// the tests check SocksDeck against dnsmasq and coturn.
final class DemoResponders: Sendable {
    let dns: IPEndpoint
    /// The primary STUN address (its other address is 127.0.0.2, port + 1).
    let stun: IPEndpoint
    private let channels: [Channel]

    static let zone: [String: (ipv4: [UInt8], text: String)] = [
        "socksdeck.demo": ([127, 0, 0, 9], "SocksDeck demo zone"),
        "www.socksdeck.demo": ([127, 0, 0, 9], "SocksDeck demo zone"),
    ]

    private init(dns: IPEndpoint, stun: IPEndpoint, channels: [Channel]) {
        self.dns = dns
        self.stun = stun
        self.channels = channels
    }

    static func start(group: EventLoopGroup) async throws -> DemoResponders {
        let dnsChannel = try await DatagramBootstrap(group: group)
            .channelInitializer { $0.pipeline.addHandler(DNSHandler()) }
            .bind(to: IPEndpoint(.v4(.loopback), port: 0).nioAddress).get()
        let dns = IPEndpoint(dnsChannel.localAddress)!
        let set = STUNSockets()
        var stunChannels: [Channel] = []
        // Four sockets: {127.0.0.1, 127.0.0.2} × {port, port + 1}; a few tries for a free pair.
        for _ in 0..<20 {
            stunChannels = []
            let first = try await bind(.loopback, 0, set, group)
            stunChannels.append(first)
            let port = IPEndpoint(first.localAddress)!.port
            guard port < UInt16.max else { continue }
            var complete = true
            for (ip, p) in [
                (IPv4Address.loopback, port + 1), (IPv4Address(127, 0, 0, 2), port),
                (IPv4Address(127, 0, 0, 2), port + 1),
            ] {
                guard let c = try? await bind(ip, p, set, group) else {
                    complete = false
                    break
                }
                stunChannels.append(c)
            }
            if complete { break }
            for c in stunChannels { try? await c.close() }
            stunChannels = []
        }
        guard stunChannels.count == 4 else {
            throw DemoError("no free port pair on 127.0.0.1 and 127.0.0.2 for the demo's STUN server")
        }
        let stun = IPEndpoint(stunChannels[0].localAddress)!
        set.store(Dictionary(uniqueKeysWithValues: stunChannels.map { (IPEndpoint($0.localAddress)!, $0) }))
        return DemoResponders(dns: dns, stun: stun, channels: [dnsChannel] + stunChannels)
    }

    private static func bind(
        _ ip: IPv4Address,
        _ port: UInt16,
        _ set: STUNSockets,
        _ group: EventLoopGroup
    ) async throws -> Channel {
        try await DatagramBootstrap(group: group)
            .channelInitializer { $0.pipeline.addHandler(STUNHandler(sockets: set)) }
            .bind(to: IPEndpoint(.v4(ip), port: port).nioAddress).get()
    }

    func stop() async {
        for c in channels { try? await c.close() }
    }

    struct DemoError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}

/// The four STUN sockets by address, so that a request can be answered from another one.
private final class STUNSockets: @unchecked Sendable {
    private let lock = NSLock()
    private var sockets: [IPEndpoint: Channel] = [:]
    func store(_ all: [IPEndpoint: Channel]) { lock.withLock { sockets = all } }
    var all: [IPEndpoint: Channel] { lock.withLock { sockets } }
}

private final class DNSHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let query = Array(envelope.data.readableBytesView)
        guard let answer = DNSAnswer.respond(to: query, zone: DemoResponders.zone) else { return }
        let out = context.channel.allocator.buffer(bytes: answer)
        context.writeAndFlush(
            wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: out)),
            promise: nil
        )
    }
}

private final class STUNHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let sockets: STUNSockets
    init(sockets: STUNSockets) { self.sockets = sockets }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let here = IPEndpoint(context.channel.localAddress), let client = IPEndpoint(envelope.remoteAddress)
        else { return }
        let all = sockets.all
        let ips = Set(all.keys.map(\.address)).sorted { "\($0)" < "\($1)" }
        let ports = Set(all.keys.map(\.port)).sorted()
        guard ips.count == 2, ports.count == 2 else { return }
        func other<T: Equatable>(_ value: T, in pair: [T]) -> T { pair[0] == value ? pair[1] : pair[0] }
        let otherAddress = IPEndpoint(other(here.address, in: ips), port: other(here.port, in: ports))
        func stunAddress(_ e: IPEndpoint) -> STUNAddress {
            func big<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.bigEndian, Array.init) }
            switch e.address {
            case .v4(let a): return STUNAddress(address: big(a.value), port: e.port)
            case .v6(let a): return STUNAddress(address: big(a.high) + big(a.low), port: e.port)
            }
        }
        let request = Array(envelope.data.readableBytesView)
        guard
            let first = STUNAnswer.respond(
                to: request,
                client: stunAddress(client),
                origin: stunAddress(here),
                other: stunAddress(otherAddress)
            )
        else { return }
        let from = IPEndpoint(
            first.changeIP ? other(here.address, in: ips) : here.address,
            port: first.changePort ? other(here.port, in: ports) : here.port
        )
        guard let channel = all[from],
            let (answer, _, _) = STUNAnswer.respond(
                to: request,
                client: stunAddress(client),
                origin: stunAddress(from),
                other: stunAddress(otherAddress)
            )
        else { return }
        channel.writeAndFlush(
            AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: channel.allocator.buffer(bytes: answer)),
            promise: nil
        )
    }
}
