import Foundation
import SocksDeckEngine

/// Probe progress and results, handed from the probes' tasks to the UI loop under a lock.
final class ProbeResultBox: @unchecked Sendable {
    private let lock = NSLock()
    /// Findings so far of each running probe.
    private var counts: [String: Int] = [:]
    /// The probes whose count moved since the last `take`.
    private var moved: Set<String> = []
    private var results: [(String, [ProbeFinding])] = []

    /// One more finding of `name`'s probe.
    func progressed(_ name: String) {
        lock.withLock {
            counts[name, default: 0] += 1
            moved.insert(name)
        }
    }

    func put(_ name: String, _ findings: [ProbeFinding]) {
        lock.withLock {
            counts[name] = nil
            moved.remove(name)
            results.append((name, findings))
        }
    }

    /// The counts that moved and the probes that finished, since the last call.
    func take() -> (progress: [String: Int], finished: [(String, [ProbeFinding])]) {
        lock.withLock {
            defer {
                moved = []
                results = []
            }
            return (counts.filter { moved.contains($0.key) }, results)
        }
    }
}
