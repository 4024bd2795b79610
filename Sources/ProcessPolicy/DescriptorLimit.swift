#if canImport(Glibc)
import Glibc
#endif

/// The process's descriptor limit: an association takes two descriptors, so a thousand of them
/// need more than the usual soft limit of 1,024.
package enum DescriptorLimit {
    /// Raises the soft RLIMIT_NOFILE to `count`, or to the hard limit when that is lower; never
    /// lowers it. Returns the soft limit now in force.
    @discardableResult
    package static func raise(toAtLeast count: Int) -> Int {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        let wanted = min(limit.rlim_max, rlim_t(clamping: count))
        if limit.rlim_cur < wanted {
            limit.rlim_cur = wanted
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        return Int(clamping: limit.rlim_cur)
    }

    /// Raises the soft limit as far as the hard limit allows (serve, and vetting long lists).
    @discardableResult
    package static func raiseToHardLimit() -> Int { raise(toAtLeast: Int.max) }
}
