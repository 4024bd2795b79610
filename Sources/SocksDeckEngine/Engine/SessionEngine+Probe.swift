import Socks5

extension SessionEngine {
    /// Runs the capability probe with this engine: its connections are the loop's channels and its
    /// associations the engine's own, so it blocks no thread, and an engine shut down under it
    /// ends it at once (each remaining step fails as the server's connection would).
    package func run(
        _ probe: CapabilityProbe,
        progress: @escaping @Sendable (ProbeFinding) -> Void = { _ in }
    ) async throws(EngineError) -> [ProbeFinding] {
        try await onLoop { _ in }
        return await probe.run(on: self, progress: progress)
    }
}
