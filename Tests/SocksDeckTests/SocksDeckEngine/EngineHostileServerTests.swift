import Foundation
import Socks5
import Testing

@testable import SocksDeckEngine

/// The same hostile servers as the C and Swift API face (Socks5/Blocking/HostileServerTests),
/// now through the engine: each ends `failed` with the same S5 code and errno, decoded, in
/// bounded time.
@Suite struct EngineHostileServerTests {
    @Test(arguments: HostileServerTests.cases)
    func theEngineDecodesEveryCase(_ c: HostileServerTests.Case) async throws {
        let server = ScriptedServer(script: c.script())
        let definition = ServerDefinition(
            name: "hostile",
            host: "127.0.0.1",
            port: server.endpoint.port,
            connectTimeoutMilliseconds: 2000,
            handshakeTimeoutMilliseconds: 2000
        )
        let engine = SessionEngine(configuration: DeckConfiguration(servers: [definition]))
        let started = Date()
        let id = try await engine.open(server: "hostile")
        let s = try #require(await engine.waitUntilSettled(id, timeout: .seconds(5)))
        #expect(Date().timeIntervalSince(started) < 5)
        guard case .failed(let failure) = s.state else {
            Issue.record("\(c.name): \(s.state)")
            await engine.shutdown()
            return
        }
        #expect(failure.s5Code == c.s5, "\(c.name): \(failure)")
        #expect(failure.errnoValue == c.errno, "\(c.name): \(failure)")
        #expect(!failure.sentence.isEmpty)
        await engine.shutdown()
        server.finish()
    }

    @Test func aSilentServerFailsWithETIMEDOUTAfterTheHandshakeTimeout() async throws {
        let server = ScriptedServer(script: [.expect(3), .silent(seconds: 3)])
        let definition = ServerDefinition(
            name: "silent",
            host: "127.0.0.1",
            port: server.endpoint.port,
            handshakeTimeoutMilliseconds: 300
        )
        let engine = SessionEngine(configuration: DeckConfiguration(servers: [definition]))
        let id = try await engine.open(server: "silent")
        let s = try #require(await engine.waitUntilSettled(id, timeout: .seconds(3)))
        guard case .failed(let failure) = s.state else {
            Issue.record("\(s.state)")
            return
        }
        #expect(failure.name == "ETIMEDOUT" && failure.s5Code == 0)
        await engine.shutdown()
    }
}
