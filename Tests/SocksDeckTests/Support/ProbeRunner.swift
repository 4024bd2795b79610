import Foundation

@testable import SocksDeckEngine

extension CapabilityProbe {
    /// The probe as the front ends run it: with an engine (capturing its associations as `capture`
    /// says), the engine shut down after.
    func findings(
        capture: CaptureMode = .off,
        progress: @escaping @Sendable (ProbeFinding) -> Void = { _ in }
    ) async -> [ProbeFinding] {
        let engine = SessionEngine(configuration: DeckConfiguration(servers: []), capture: capture)
        let findings = (try? await engine.run(self, progress: progress)) ?? []
        await engine.shutdown()
        return findings
    }
}
