import Foundation
import SocksDeckEngine

/// Probe progress and results, handed from the probe threads to the UI loop under a lock.
final class ProbeResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [String: Int] = [:]
    private var results: [(String, [ProbeFinding])] = []
    func progress(_ name: String, _ count: Int) { lock.withLock { counts[name] = count } }
    func put(_ name: String, _ findings: [ProbeFinding]) {
        lock.withLock {
            counts[name] = nil
            results.append((name, findings))
        }
    }
    func take() -> (progress: [String: Int], finished: [(String, [ProbeFinding])]) {
        lock.withLock {
            defer {
                counts = [:]
                results = []
            }
            return (counts, results)
        }
    }
}
