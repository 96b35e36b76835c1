import SystemPackage

/// What the server does when accept() fails for lack of resources (EMFILE at the open-file
/// limit, ENFILE, ENOBUFS, ENOMEM). The listener is level-triggered: it stays readable while
/// connections wait in the accept queue, so a server that simply retried would spin at 100 %
/// CPU without ever getting a descriptor. Instead it stops polling the listener and comes back
/// when a connection it holds closes (a descriptor is free again) or after a back-off that
/// doubles from `initialBackoff` to `maximumBackoff` (descriptors can be freed elsewhere).
///
/// An episode starts with the first such failure while connections wait and ends when none
/// waits any more (accept() finds the queue empty, or fails with nobody waiting: accept4 takes
/// a descriptor before it looks at the queue); it is reported once at its start and once at
/// its end, however many times accept() failed in between.
struct AcceptThrottle {
    static let initialBackoffNanoseconds: UInt64 = 50_000_000
    static let maximumBackoffNanoseconds: UInt64 = 1_000_000_000

    /// When the episode began (MonotonicClock), nil while accept() works.
    private(set) var episodeStart: UInt64?
    /// accept() calls that failed for resources in this episode.
    private(set) var failures = 0
    /// Whether the listener is out of the epoll set until a descriptor frees up or the back-off ends.
    private(set) var paused = false
    private var backoff = initialBackoffNanoseconds

    /// The errors that mean "no descriptor or memory for the new socket now", not "broken".
    static func isResourceExhaustion(_ errno: Errno) -> Bool {
        errno == .tooManyOpenFiles || errno == .tooManyOpenFilesInSystem || errno == .noBufferSpace || errno == .noMemory
    }

    /// accept() failed for resources: pause. Returns whether this starts an episode (report it)
    /// and how long to wait before polling the listener again.
    mutating func failed(now: UInt64) -> (startsEpisode: Bool, retryAfterNanoseconds: UInt64) {
        let starts = episodeStart == nil
        if starts {
            episodeStart = now
            backoff = Self.initialBackoffNanoseconds
        }
        failures += 1
        paused = true
        let wait = backoff
        backoff = min(backoff * 2, Self.maximumBackoffNanoseconds)
        return (starts, wait)
    }

    /// The listener goes back into the epoll set (a descriptor was freed, or the back-off ended).
    mutating func resume() { paused = false }

    /// No connection waits any more: the episode (if any) is over. Returns its failures and
    /// length in nanoseconds, once.
    mutating func caughtUp(now: UInt64) -> (failures: Int, nanoseconds: UInt64)? {
        guard let start = episodeStart else { return nil }
        defer {
            episodeStart = nil
            failures = 0
            backoff = Self.initialBackoffNanoseconds
        }
        return (failures, now - start)
    }
}
