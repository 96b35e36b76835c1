import CTCPLabShim
import SystemPackage
import TCPLabSystem

#if canImport(Glibc)
import Glibc
#endif

/// A timerfd on CLOCK_MONOTONIC armed with absolute nanosecond deadlines: epoll wakes the loop
/// when the earliest held segment is due. epoll_wait's own timeout counts whole milliseconds;
/// a timerfd is an hrtimer with no slack, which is what a 1 ms p99 needs.
final class MonotonicTimer {
    let descriptor: FileDescriptor
    private var armedDeadline: UInt64?

    init() throws(SystemCallError) {
        let fd = try retryingEINTR("timerfd_create") { timerfd_create(CLOCK_MONOTONIC, Int32(TFD_NONBLOCK | TFD_CLOEXEC)) }
        descriptor = FileDescriptor(rawValue: fd)
    }

    deinit { _ = Glibc.close(descriptor.rawValue) }

    /// Fires once at `deadline` (MonotonicClock ns; a past one fires at once); nil disarms.
    func arm(at deadline: UInt64?) throws(SystemCallError) {
        guard deadline != armedDeadline else { return }
        let fd = descriptor.rawValue
        _ = try retryingEINTR("timerfd_settime") { tcplab_timerfd_arm_absolute(fd, deadline.map { max(1, $0) } ?? 0) }
        armedDeadline = deadline
    }

    /// Clears the expiry count after a wake-up (a non-blocking read; nothing to read is fine).
    func acknowledge() {
        var expirations: UInt64 = 0
        _ = read(descriptor.rawValue, &expirations, MemoryLayout<UInt64>.size)
        armedDeadline = nil
    }
}
