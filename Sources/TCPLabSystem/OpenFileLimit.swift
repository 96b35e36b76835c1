import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// RLIMIT_NOFILE, typed: the soft limit is what open()/socket()/accept() are held to (EMFILE
/// beyond it), the hard limit the ceiling an unprivileged process may raise the soft one to.
/// Errors carry errno and the call ("setrlimit(RLIMIT_NOFILE)"), like every TCPLabSystem call.
public struct OpenFileLimit: Sendable, Equatable, CustomStringConvertible {
    // Got from `current()` and changed field by field, so the memberwise init can stay internal.
    public var soft: UInt64
    public var hard: UInt64

    /// The calling process's limit now.
    public static func current() throws(SystemCallError) -> OpenFileLimit {
        var limit = rlimit()
        _ = try retryingEINTR("getrlimit(RLIMIT_NOFILE)") { getrlimit(resource, &limit) }
        return OpenFileLimit(soft: UInt64(limit.rlim_cur), hard: UInt64(limit.rlim_max))
    }

    /// Sets the process's limit. Lowering the soft limit below descriptors already open is
    /// allowed: they stay open, only new ones fail with EMFILE.
    public static func set(_ limit: OpenFileLimit) throws(SystemCallError) {
        var value = rlimit(rlim_cur: rlim_t(limit.soft), rlim_max: rlim_t(limit.hard))
        _ = try retryingEINTR("setrlimit(RLIMIT_NOFILE)", subject: "\(limit)") { setrlimit(resource, &value) }
    }

    /// Sets only the soft limit, keeping the hard one (raising it too when `soft` is above it,
    /// which needs CAP_SYS_RESOURCE).
    public static func setSoft(_ soft: UInt64) throws(SystemCallError) {
        let now = try current()
        try set(OpenFileLimit(soft: soft, hard: max(now.hard, soft)))
    }

    /// Raises the soft limit to `wanted` unless it is that high already (as `setSoft`); returns
    /// the soft limit now.
    @discardableResult
    public static func raiseSoft(to wanted: UInt64) throws(SystemCallError) -> UInt64 {
        let now = try current()
        if now.soft >= wanted { return now.soft }
        try setSoft(wanted)
        return wanted
    }

    /// The descriptor numbers the process has open now (/proc/self/fd, without the one reading
    /// it); nil where /proc is not mounted.
    public static func openDescriptors() -> [Int32]? {
        guard let directory = opendir("/proc/self/fd") else { return nil }
        defer { closedir(directory) }
        let own = dirfd(directory)
        var numbers: [Int32] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if let number = Int32(name), number != own { numbers.append(number) }
        }
        return numbers.sorted()
    }

    /// How many more descriptors the process can open under a soft limit of `soft`: the kernel
    /// hands out the lowest free number and fails with EMFILE when that is ≥ the limit, so only
    /// free numbers below it count (an inherited descriptor 251 takes no slot under a limit of 8).
    public static func freeDescriptors(under soft: UInt64, open: [Int32]) -> Int {
        max(0, Int(soft) - open.filter { $0 >= 0 && UInt64($0) < soft }.count)
    }

    /// `freeDescriptors(under:open:)` for the descriptors open now; nil where /proc is not mounted.
    public static func freeDescriptors(under soft: UInt64) -> Int? {
        openDescriptors().map { freeDescriptors(under: soft, open: $0) }
    }

    public var description: String { "soft \(soft), hard \(hard)" }

    // Glibc imports RLIMIT_NOFILE as a constant of the enum __rlimit_resource.
    private static var resource: __rlimit_resource_t { __rlimit_resource_t(RLIMIT_NOFILE.rawValue) }
}
