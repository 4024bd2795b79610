import CBenchSupport
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// CPU time, in nanoseconds, from the kernel's scheduler accounting: exact, where getrusage and
/// /proc/PID/stat count in 10 ms ticks, too coarse for a run of a second.
enum CPUTime {
    /// The calling thread's user+system time.
    static func thread() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// The whole process's user+system time (every thread).
    static func process() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Time on the CPU of every thread of the given processes (another process: a server).
    /// The first field of /proc/PID/task/TID/schedstat is the thread's run time in ns.
    static func processes(_ pids: [Int32]) -> UInt64 {
        var total: UInt64 = 0
        for pid in pids {
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
            for tid in tasks {
                guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/schedstat", encoding: .utf8),
                    let first = text.split(separator: " ").first, let ns = UInt64(first)
                else { continue }
                total += ns
            }
        }
        return total
    }

    /// Heap bytes in use: what the process's objects take, apart from the pages the allocator
    /// keeps for later.
    static func heapInUse() -> Int { Int(bench_heap_in_use()) }

    /// The given processes and their direct children as they are now (Dante forks its
    /// negotiation, request and I/O children on demand).
    static func withChildren(_ pids: [Int32]) -> [Int32] {
        let all = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.compactMap { Int32($0) } ?? []
        let children = all.filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return false }
            // Fields after "(comm)": state, ppid, ...
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]).map { pids.contains($0) } == true
        }
        return pids + children
    }

    /// Resident memory of this process, in bytes (VmRSS of /proc/self/status).
    static func residentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let kib = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
            return kib * 1024
        }
        return 0
    }
}
