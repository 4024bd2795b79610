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
            connectTimeout: .seconds(2),
            handshakeTimeout: .seconds(2)
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
        #expect(failure.error.socks5Errno == c.s5, "\(c.name): \(failure)")
        #expect(failure.error.systemError == c.errno, "\(c.name): \(failure)")
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
            handshakeTimeout: .milliseconds(300)
        )
        let engine = SessionEngine(configuration: DeckConfiguration(servers: [definition]))
        let id = try await engine.open(server: "silent")
        let s = try #require(await engine.waitUntilSettled(id, timeout: .seconds(3)))
        guard case .failed(let failure) = s.state else {
            Issue.record("\(s.state)")
            return
        }
        #expect(failure.name == "ETIMEDOUT" && failure.code == nil)
        await engine.shutdown()
    }

    static func definition(_ server: ScriptedServer) -> ServerDefinition {
        ServerDefinition(
            name: "hostile",
            host: "127.0.0.1",
            port: server.endpoint.port,
            connectTimeout: .seconds(2),
            handshakeTimeout: .seconds(2)
        )
    }

    /// Bytes after the reply (a server that writes "heartbeat" now and then) are counted, the
    /// first ones logged with their hex and text, and the association stays up (issue 29).
    @Test func bytesOnTheControlConnectionAfterTheReplyAreCountedAndLogged() async throws {
        let heartbeat = Array("heartbeat".utf8)
        let reply: [UInt8] = [0x05, 0x00, 0x00, 0x01, 127, 0, 0, 1, 0x9C, 0x40]
        var script = HostileServerTests.accept + [.send(reply)]
        for _ in 0..<5 { script += [.silent(seconds: 0.05), .send(heartbeat)] }
        let server = ScriptedServer(script: script + [.silent(seconds: 2)])
        let engine = SessionEngine(configuration: DeckConfiguration(servers: [Self.definition(server)]))
        let id = try await engine.open(server: "hostile")
        #expect(await engine.waitUntilSettled(id, timeout: .seconds(5))?.state == .associated)
        let s = await SessionEngineTests.eventually(engine, id) { $0.counters.controlBytesAfterReply == 45 }
        #expect(s?.counters.controlBytesAfterReply == 45 && s?.state == .associated, "\(String(describing: s))")
        let lines = await engine.events(for: id).map(\.message).filter { $0.contains("after its reply") }
        #expect(lines.count == Association.controlReadsLogged, "the first reads only: \(lines)")
        #expect(lines.first?.contains("68 65 61 72 74 62 65 61 74 \"heartbeat\"") == true, "\(lines)")
        #expect(lines.last?.hasSuffix("further ones are counted, not logged") == true, "\(lines)")
        await engine.shutdown()
        server.finish()
    }

    /// A server that grants UDP ASSOCIATE and hangs up at once: a send afterwards names the cause,
    /// not only the state (issue 29).
    @Test func aSendAfterTheServerHungUpNamesTheCause() async throws {
        let reply: [UInt8] = [0x05, 0x00, 0x00, 0x01, 127, 0, 0, 1, 0x9C, 0x40]
        let server = ScriptedServer(script: HostileServerTests.accept + [.send(reply)])
        let engine = SessionEngine(configuration: DeckConfiguration(servers: [Self.definition(server)]))
        let id = try await engine.open(server: "hostile")
        _ = await engine.waitUntilSettled(id, timeout: .seconds(5))
        let closed = await SessionEngineTests.eventually(engine, id) { $0.state.isFinal }
        #expect(closed?.state == .closed(reason: "the server closed the control connection (EOF)"))
        #expect(closed?.closedBy == .server)
        do {
            _ = try await engine.send(id, to: .ip(IPEndpoint("127.0.0.1:9")!), payload: [1], count: 1)
            Issue.record("a send through a closed association succeeded")
        } catch {
            #expect(
                error.description
                    == "association \(id) is no longer associated: closed (the server closed the control connection (EOF))",
                "\(error)"
            )
        }
        await engine.shutdown()
        server.finish()
    }
}
