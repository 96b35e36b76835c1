#if canImport(Glibc)
import Glibc
#endif

public enum ResourceLimits {
    /// Raises the soft open-file limit to the hard limit (a server holding thousands of connections
    /// needs more than the usual 1024) and returns the new soft limit.
    @discardableResult
    public static func raiseOpenFileLimit() -> UInt64 {
        var limit = rlimit()
        guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(RLIMIT_NOFILE_VALUE, &limit)
        }
        return UInt64(limit.rlim_cur)
    }

    // Glibc imports RLIMIT_NOFILE as an enum constant of __rlimit_resource.
    private static var RLIMIT_NOFILE_VALUE: __rlimit_resource_t { __rlimit_resource_t(RLIMIT_NOFILE.rawValue) }
}
