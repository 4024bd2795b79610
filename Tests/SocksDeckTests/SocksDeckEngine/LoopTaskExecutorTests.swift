import Foundation
import Socks5
import Testing

@testable import SocksDeckEngine

/// `runOnLoop`: a caller on the engine's loop drives it in place, through Dante, and may shut it
/// down from there without hanging.
@Suite(.tags(.peers), .needsPeers) struct LoopTaskExecutorTests {
    @Test(.timeLimit(.minutes(1))) func aCallerOnTheLoopStaysThereThroughOpenSendAndClose() async throws {
        let peers = try TestPeers.shared()
        let configuration = SessionEngineTests.configuration(peers)
        let server = try #require(configuration.server(named: "dante"))
        let engine = SessionEngine(configuration: configuration)
        #expect(!engine.loop.inEventLoop)
        let onLoopThroughout = try await engine.runOnLoop { () async throws -> Bool in
            var onLoop = engine.loop.inEventLoop
            let settled = try await engine.openAndWait(server: server, timeout: .seconds(5))
            onLoop = onLoop && engine.loop.inEventLoop
            #expect(settled.state == .associated, "\(settled.state)")
            let written = try await engine.send(settled.id, to: .ip(peers.echo.endpoint(.ipv4)), payload: [1, 2, 3])
            #expect(written == 1)
            await engine.close(settled.id)
            onLoop = onLoop && engine.loop.inEventLoop
            #expect(await engine.snapshot(settled.id)?.state == .closed(reason: "closed by the user"))
            return onLoop
        }
        #expect(onLoopThroughout)
        await engine.shutdown()
    }

    @Test(.timeLimit(.minutes(1))) func shuttingDownFromTheLoopCarriesOnOffIt() async throws {
        let peers = try TestPeers.shared()
        let configuration = SessionEngineTests.configuration(peers)
        let server = try #require(configuration.server(named: "dante"))
        let engine = SessionEngine(configuration: configuration)
        let afterShutdown = try await engine.runOnLoop { () async throws -> (Bool, EngineError?) in
            let settled = try await engine.openAndWait(server: server, timeout: .seconds(5))
            #expect(settled.state == .associated, "\(settled.state)")
            await engine.shutdown()
            // The loop has stopped; this runs on the global executor, and the engine says so.
            do throws(EngineError) {
                _ = try await engine.openAndWait(server: server)
                return (engine.loop.inEventLoop, nil)
            } catch {
                return (engine.loop.inEventLoop, error)
            }
        }
        #expect(afterShutdown.0 == false)
        #expect(afterShutdown.1 == .shutDown)
    }
}
