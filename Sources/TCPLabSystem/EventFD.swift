import CTCPLabShim
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// A counter another thread can make readable (eventfd(2)): how an event loop on one thread is
/// told to stop by another, between two iterations.
public final class EventFD: Sendable {
    public let descriptor: FileDescriptor

    public init() throws(SystemCallError) {
        let fd = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        guard fd >= 0 else { throw SystemCallError(Errno(rawValue: errno), call: "eventfd") }
        descriptor = FileDescriptor(rawValue: fd)
    }

    deinit { try? descriptor.close() }

    /// Makes the descriptor readable (adds one to the counter).
    public func signal() {
        var one: UInt64 = 1
        _ = try? retryingEINTR("write") { Glibc.write(descriptor.rawValue, &one, 8) }
    }

    /// Whether it was signalled since the last call (and resets it).
    public func consume() -> Bool {
        var count: UInt64 = 0
        return Glibc.read(descriptor.rawValue, &count, 8) == 8 && count > 0
    }
}
