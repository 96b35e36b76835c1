import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// poll(2) on one descriptor: the one entry point for waiting on a single descriptor with a
/// timeout (a connect in progress, a pipe, a netlink socket); many descriptors wait in `Epoll`.
public enum Poll {
    public struct Events: OptionSet, Hashable, Sendable {
        public let rawValue: Int16
        public init(rawValue: Int16) { self.rawValue = rawValue }
        public static let readable = Events(rawValue: Int16(POLLIN))
        public static let writable = Events(rawValue: Int16(POLLOUT))
        public static let error = Events(rawValue: Int16(POLLERR))
        public static let hangUp = Events(rawValue: Int16(POLLHUP))
    }

    /// Waits up to `timeoutMilliseconds` (0: just look, -1: forever) for `events` on
    /// `descriptor`; returns what happened (POLLERR and POLLHUP come unasked), empty on timeout.
    /// poll is never restarted after a signal handler (SA_RESTART does not apply to it), so
    /// EINTR is retried here with what is left of the timeout.
    public static func wait(_ descriptor: Int32, for events: Events, timeoutMilliseconds: Int32,
                            subject: @autoclosure () -> String? = nil) throws(SystemCallError) -> Events {
        var entry = pollfd(fd: descriptor, events: events.rawValue, revents: 0)
        let start = MonotonicClock.now()
        var timeout = timeoutMilliseconds
        while true {
            let ready = Glibc.poll(&entry, 1, timeout)
            if ready >= 0 { return ready == 0 ? [] : Events(rawValue: entry.revents) }
            let code = Errno(rawValue: errno)
            guard code == .interrupted else { throw SystemCallError(code, call: "poll", subject: subject()) }
            if timeoutMilliseconds > 0 {
                let spent = Int32(clamping: (MonotonicClock.now() - start) / 1_000_000)
                timeout = max(0, timeoutMilliseconds - spent)
            }
        }
    }
}
