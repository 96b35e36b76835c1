import CTCPLabShim
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// epoll(7): one instance, level-triggered. The caller keys registrations by a 64-bit token.
public final class Epoll {
    public let descriptor: FileDescriptor
    private var buffer: [epoll_event]

    public struct Events: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let readable = Events(rawValue: EPOLLIN.rawValue)
        public static let writable = Events(rawValue: EPOLLOUT.rawValue)
        public static let peerHangUp = Events(rawValue: EPOLLRDHUP.rawValue)
        public static let error = Events(rawValue: EPOLLERR.rawValue)
        public static let hangUp = Events(rawValue: EPOLLHUP.rawValue)
    }

    /// `capacity`: the most events one wait returns.
    public init(capacity: Int = 256) throws(SystemCallError) {
        buffer = [epoll_event](repeating: epoll_event(), count: capacity)
        let fd = try retryingEINTR("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        descriptor = FileDescriptor(rawValue: fd)
    }

    public func add(_ fd: FileDescriptor, events: Events, token: UInt64) throws(SystemCallError) {
        try control(EPOLL_CTL_ADD, fd, events, token, "epoll_ctl(ADD)")
    }

    public func modify(_ fd: FileDescriptor, events: Events, token: UInt64) throws(SystemCallError) {
        try control(EPOLL_CTL_MOD, fd, events, token, "epoll_ctl(MOD)")
    }

    public func remove(_ fd: FileDescriptor) throws(SystemCallError) {
        try control(EPOLL_CTL_DEL, fd, [], 0, "epoll_ctl(DEL)")
    }

    private func control(_ op: Int32, _ fd: FileDescriptor, _ events: Events, _ token: UInt64, _ name: String) throws(SystemCallError) {
        var event = epoll_event()
        event.events = events.rawValue
        event.data.u64 = token
        _ = try retryingEINTR(name) { epoll_ctl(descriptor.rawValue, op, fd.rawValue, &event) }
    }

    /// Waits up to `timeoutMilliseconds` (-1: forever); returns (token, events) pairs. EINTR returns no events.
    public func wait(timeoutMilliseconds: Int32) throws(SystemCallError) -> [(token: UInt64, events: Events)] {
        let count = buffer.withUnsafeMutableBufferPointer { epoll_wait(descriptor.rawValue, $0.baseAddress, Int32($0.count), timeoutMilliseconds) }
        if count < 0 {
            let code = Errno(rawValue: Glibc.errno)
            if code == .interrupted { return [] }
            throw SystemCallError(code, call: "epoll_wait")
        }
        return (0..<Int(count)).map { (buffer[$0].data.u64, Events(rawValue: buffer[$0].events)) }
    }

    public func close() { _ = Glibc.close(descriptor.rawValue) }
}
