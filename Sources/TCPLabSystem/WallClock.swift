#if canImport(Glibc)
import Glibc
#endif

/// CLOCK_REALTIME: the clock of NFLOG's timestamps and of nftables' `meta time`.
public enum WallClock {
    /// Nanoseconds since the Unix epoch.
    public static func nowNanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }

    /// Microseconds since the Unix epoch.
    public static func nowMicroseconds() -> Int64 { nowNanoseconds() / 1000 }
}
