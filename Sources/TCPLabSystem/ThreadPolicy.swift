import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// The calling thread's scheduling policy (sched_setscheduler(2): pid 0 is the calling thread,
/// not the process). A watcher runs at `idle` so that on a busy machine it takes only CPU time
/// the traffic it watches leaves over.
public enum ThreadPolicy: Int32, Sendable, CaseIterable {
    /// SCHED_OTHER, the default.
    case normal = 0
    /// SCHED_IDLE: runs only when nothing else wants the CPU. (Glibc declares the constant only
    /// with _GNU_SOURCE, which Swift's import does not set; the value is linux/sched.h's.)
    case idle = 5

    /// Puts the calling thread under this policy. Going back from `idle` to `normal` needs
    /// CAP_SYS_NICE or an RLIMIT_NICE that allows nice 0 (root has both; a container may not).
    public func apply() throws(SystemCallError) {
        var parameter = sched_param(sched_priority: 0)
        _ = try retryingEINTR("sched_setscheduler(\(self == .idle ? "SCHED_IDLE" : "SCHED_OTHER"))") {
            sched_setscheduler(0, rawValue, &parameter)
        }
    }
}
