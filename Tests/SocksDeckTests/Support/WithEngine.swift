import SocksDeckEngine

/// Runs `body` with `engine`, then awaits the engine's shutdown whether `body` returned or threw:
/// a `defer` cannot await, and a detached `Task { await engine.shutdown() }` outlives its test.
func withEngine<Result>(
    _ engine: SessionEngine,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (SessionEngine) async throws -> Result
) async rethrows -> Result {
    do {
        let result = try await body(engine)
        await engine.shutdown()
        return result
    } catch {
        await engine.shutdown()
        throw error
    }
}
