import NIOCore
import NIOHTTP1
import NIOPosix
import Socks5
import Socks5NIO
import SocksDeckEngine

/// Serves GET /metrics (Prometheus text exposition, rendered beside it in
/// `AssociationWatcher+Metrics`) and GET /healthz from the watcher, on SwiftNIO's HTTP/1.
final class MetricsServer: Sendable {
    let listening: IPEndpoint
    private let channel: Channel

    private init(listening: IPEndpoint, channel: Channel) {
        self.listening = listening
        self.channel = channel
    }

    static func start(
        on address: IPEndpoint,
        group: EventLoopGroup,
        watcher: AssociationWatcher
    ) async throws -> MetricsServer {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(MetricsHandler(watcher: watcher))
                }
            }
            .bind(to: address.nioAddress).get()
        return MetricsServer(listening: IPEndpoint(channel.localAddress) ?? address, channel: channel)
    }

    func stop() async { try? await channel.close() }
}

private final class MetricsHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let watcher: AssociationWatcher
    init(watcher: AssociationWatcher) { self.watcher = watcher }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data) else { return }
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        guard head.method == .GET, path == "/metrics" || path == "/healthz" else {
            respond(
                loopBound.value,
                .notFound,
                "only GET /metrics and GET /healthz are served here\n",
                contentType: "text/plain"
            )
            return
        }
        let watcher = self.watcher
        if path == "/healthz" {
            let promise = context.eventLoop.makePromise(of: [String].self)
            promise.completeWithTask { await watcher.down() }
            promise.futureResult.whenSuccess { [self] down in
                let body = down.isEmpty ? "ok\n" : down.map { "down: \($0)\n" }.joined()
                respond(loopBound.value, down.isEmpty ? .ok : .serviceUnavailable, body, contentType: "text/plain")
            }
            return
        }
        let promise = context.eventLoop.makePromise(of: String.self)
        promise.completeWithTask { await watcher.metrics() }
        promise.futureResult.whenSuccess { [self] text in
            respond(loopBound.value, .ok, text, contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
    }

    private func respond(
        _ context: ChannelHandlerContext,
        _ status: HTTPResponseStatus,
        _ body: String,
        contentType: String
    ) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: "\(body.utf8.count)")
        headers.add(name: "Connection", value: "close")
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))),
            promise: nil
        )
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}
