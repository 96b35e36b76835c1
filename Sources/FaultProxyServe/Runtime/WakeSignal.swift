import CTCPLabShim
import Glibc

/// An eventfd a thread polls beside its sockets, so another thread can make it look at shared
/// state now (a toxic changed, the connection ends) instead of at its next timeout.
struct WakeSignal: Sendable {
    let descriptor: Int32

    static func make() -> WakeSignal? {
        let fd = tcplab_eventfd()
        return fd >= 0 ? WakeSignal(descriptor: fd) : nil
    }

    func signal() {
        var one: UInt64 = 1
        _ = Glibc.write(descriptor, &one, 8)
    }

    func drain() {
        var value: UInt64 = 0
        _ = Glibc.read(descriptor, &value, 8)
    }

    func close() { _ = Glibc.close(descriptor) }
}

/// ppoll with a nanosecond timeout (nil = wait for an event), retrying EINTR.
enum Poll {
    static func wait(_ fds: inout [pollfd], timeoutNanoseconds: UInt64?) {
        let timeout = timeoutNanoseconds.map { Int64(min($0, UInt64(Int64.max))) } ?? -1
        // EINTR: return and let the caller's loop look again (its deadlines are absolute).
        _ = tcplab_ppoll(&fds, UInt(fds.count), timeout)
    }
}
