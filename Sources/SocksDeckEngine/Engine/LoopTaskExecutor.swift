import NIOConcurrencyHelpers
import NIOCore

/// The engine's event loop as a Swift task executor, so that a caller that only drives the
/// engine can run on its loop (`SessionEngine.runOnLoop`): every `await` on the engine then
/// completes on the thread that did the work, with no wake-up of another thread each way.
///
/// Written here because NIO 2.101 makes an event loop a `SerialExecutor` (for actors) but not a
/// `TaskExecutor` (for `withTaskExecutorPreference`); the two differ only in the protocol.
final class LoopTaskExecutor: TaskExecutor {
    let loop: EventLoop
    /// Set by `SessionEngine.shutdown` before the loop stops: a loop that has stopped drops what
    /// it is given, so a caller still running "on the loop" (one that shut the engine down from
    /// `runOnLoop`) goes on on Swift's global executor instead of hanging.
    private let loopStopping = NIOLockedValueBox(false)

    init(loop: EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        guard !loopStopping.withLockedValue({ $0 }) else {
            globalConcurrentExecutor.enqueue(job)
            return
        }
        let job = UnownedJob(job)
        // From the loop itself this only appends to its queue (no eventfd write).
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    func stopUsingTheLoop() { loopStopping.withLockedValue { $0 = true } }
}

extension SessionEngine {
    /// Runs `body` on the engine's event loop (as its task executor). Every call on the engine
    /// made from `body` then runs in place instead of hopping to the loop and back: an
    /// association opens and settles, or closes, without waking another thread. Setting up
    /// associations one after another this way is about twice as fast (`Benchmarks/results.md`).
    ///
    /// `body` shares the loop with every association, so it must not block: await, never wait
    /// (no blocking reads, `sleep(3)` or semaphores; `Task.sleep` is fine). Work that blocks
    /// belongs outside, with the engine called from there as usual. `body` may shut the engine
    /// down; what follows then runs on Swift's global executor.
    package func runOnLoop<T, Failure: Error>(
        _ body: () async throws(Failure) -> T
    ) async throws(Failure) -> T {
        try await withTaskExecutorPreference(loopExecutor, operation: body)
    }
}
