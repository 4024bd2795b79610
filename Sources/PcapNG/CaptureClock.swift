#if canImport(Glibc)
import Glibc
#endif

/// The wall clock a capture's timestamps come from: nanoseconds since the Unix epoch.
package enum CaptureClock {
    package static func now() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        return UInt64(max(t.tv_sec, 0)) * 1_000_000_000 + UInt64(max(t.tv_nsec, 0))
    }
}
