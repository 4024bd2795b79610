import Foundation

@testable import SocksDeckEngine

extension CapabilityProbe {
    /// The probe as the front ends run it: on an engine's loop, the engine shut down after.
    func findings(progress: @escaping @Sendable (ProbeFinding) -> Void = { _ in }) async -> [ProbeFinding] {
        let engine = SessionEngine(configuration: DeckConfiguration(servers: []))
        let findings = (try? await engine.run(self, progress: progress)) ?? []
        await engine.shutdown()
        return findings
    }
}
