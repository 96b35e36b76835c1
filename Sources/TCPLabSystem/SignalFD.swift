import CTCPLabShim
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// SIGINT/SIGTERM as a readable descriptor, so event loops shut down cleanly between two
/// iterations instead of inside a signal handler.
public struct SignalFD: Sendable {
    public let descriptor: FileDescriptor

    /// Blocks `signals` for this thread (and threads it starts later) and opens a signalfd for them.
    /// Call it early in main, before other threads exist, or they may still receive the signals.
    public init(_ signals: [Int32] = [SIGINT, SIGTERM]) throws(SystemCallError) {
        let blocked = signals.withUnsafeBufferPointer { tcplab_block_signals($0.baseAddress, Int32($0.count)) }
        if blocked != 0 { throw SystemCallError(Errno(rawValue: blocked), call: "pthread_sigmask") }
        let fd = try retryingEINTR("signalfd") {
            signals.withUnsafeBufferPointer { tcplab_signalfd($0.baseAddress, Int32($0.count), Int32(SFD_CLOEXEC | SFD_NONBLOCK)) }
        }
        descriptor = FileDescriptor(rawValue: fd)
    }

    /// The pending signal's number, or nil when none is pending.
    public func take() -> Int32? {
        var info = signalfd_siginfo()
        let count = Glibc.read(descriptor.rawValue, &info, MemoryLayout<signalfd_siginfo>.size)
        return count == MemoryLayout<signalfd_siginfo>.size ? Int32(info.ssi_signo) : nil
    }
}
