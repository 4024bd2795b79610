import CSocks5
import Foundation
import Socks5
import Socks5CAPI
import SocksDeckEngine

#if canImport(Glibc)
import Glibc
#endif

/// Association setup: N sequential associations, a new control connection each, closed before
/// the next opens. Associations per second.
enum SetupBenchmarks {
    static func library(_ server: IPEndpoint, _ count: Int, pipelining: Bool) throws -> Double {
        let options = SOCKS5Options(pipelining: pipelining)
        return try rate(count) {
            let association = try UDPAssociation.open(server: server, options: options)
            association.close()
        }
    }

    /// socks5udp_associate on a fresh SOCK_STREAM socket, as a C program does it (the data
    /// socket is the caller's business in the C API, so it is not part of this).
    static func cAPI(_ server: IPEndpoint, _ count: Int) throws -> Double {
        var serverAddress = sockaddr_storage()
        let serverLength = withUnsafeMutableBytes(of: &serverAddress) { server.write(to: $0.baseAddress!) }
        return try rate(count) {
            let control = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(control) }
            var dst = sockaddr_in()
            dst.sin_family = sa_family_t(AF_INET)
            let rc = withUnsafeMutablePointer(to: &dst) { d in
                withUnsafePointer(to: &serverAddress) { s in
                    d.withMemoryRebound(to: sockaddr.self, capacity: 1) { dp in
                        s.withMemoryRebound(to: sockaddr.self, capacity: 1) { sp in
                            socks5udp_associate(control, dp, MemoryLayout<sockaddr_in>.size, sp, serverLength)
                        }
                    }
                }
            }
            guard rc == 0 else { throw BenchError("socks5udp_associate: errno \(errno), socks5_errno \(socks5_errno)") }
        }
    }

    /// The engine: open and wait until associated (data socket bound, control connection,
    /// handshake: `openAndWait`), close. `callerOnLoop`: the calls are made from the engine's
    /// loop (`runOnLoop`), so none hops between threads; otherwise each hops to the loop and back,
    /// as the CLI's and the TUI's do (one association per command, or a frame loop that blocks).
    static func engine(
        _ server: IPEndpoint,
        _ count: Int,
        pipelining: Bool,
        callerOnLoop: Bool = true
    ) async throws -> Double {
        let definition = ServerDefinition(
            name: "bench",
            host: "\(server.address)",
            port: server.port,
            pipelining: pipelining
        )
        let engine = SessionEngine(configuration: DeckConfiguration(servers: [definition]))
        @Sendable func openAndClose() async throws -> Double {
            let start = Date()
            for _ in 0..<count {
                let settled = try await engine.openAndWait(server: definition, timeout: .seconds(10))
                guard settled.state == .associated else {
                    throw BenchError("engine: association \(settled.id) \(settled.state.name)")
                }
                await engine.close(settled.id)
            }
            return Double(count) / Date().timeIntervalSince(start)
        }
        let r = callerOnLoop ? try await engine.runOnLoop(openAndClose) : try await openAndClose()
        await engine.prune()
        await engine.shutdown()
        return r
    }

    private static func rate(_ count: Int, _ body: () throws -> Void) throws -> Double {
        let start = Date()
        for _ in 0..<count { try body() }
        return Double(count) / Date().timeIntervalSince(start)
    }
}
