import CTCPLabShim
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: the errno and the call that returned it, plus what it was acting on.
/// Reads as `connect 127.0.0.1:7000: Connection refused (ECONNREFUSED)`.
public struct SystemCallError: Error, CustomStringConvertible, Sendable, Equatable {
    public var errno: Errno
    /// The call's name (`connect`, `setsockopt(TCP_KEEPIDLE)`, `mnl_socket_sendto`).
    public var call: String
    /// What the call acted on, when that helps a reader (an address, a path, a table).
    public var subject: String?

    public init(_ errno: Errno, call: String, subject: String? = nil) {
        self.errno = errno
        self.call = call
        self.subject = subject
    }

    /// The symbolic name, "ECONNREFUSED".
    public var errnoName: String { Self.name(of: errno) }

    public static func name(of errno: Errno) -> String {
        guard let name = tcplab_errno_name(errno.rawValue) else { return "errno \(errno.rawValue)" }
        return String(cString: name)
    }

    public var description: String {
        let what = subject.map { "\(call) \($0)" } ?? call
        return "\(what): \(String(cString: strerror(errno.rawValue))) (\(errnoName))"
    }
}

/// Runs a raw call that returns -1 and sets errno on failure, retrying EINTR.
/// Never use it for close(): after EINTR the descriptor is already gone on Linux.
@inline(__always)
public func retryingEINTR<T: FixedWidthInteger>(
    _ call: String, subject: @autoclosure () -> String? = nil, _ body: () -> T
) throws(SystemCallError) -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = Errno(rawValue: Glibc.errno)
        if code == .interrupted { continue }
        throw SystemCallError(code, call: call, subject: subject())
    }
}
