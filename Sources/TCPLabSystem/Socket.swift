import CTCPLabShim
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// A TCP socket descriptor with one typed method per socket call. Like swift-system's
/// `FileDescriptor` it is a plain value: whoever made it closes it, exactly once.
public struct Socket: Hashable, Sendable {
    public let descriptor: FileDescriptor
    public init(descriptor: FileDescriptor) { self.descriptor = descriptor }
    public var rawValue: Int32 { descriptor.rawValue }

    /// A new TCP socket for `family`, close-on-exec, optionally non-blocking.
    public static func tcp(_ family: SocketAddress.Family, nonBlocking: Bool = false) throws(SystemCallError) -> Socket {
        var type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        if nonBlocking { type |= Int32(SOCK_NONBLOCK.rawValue) }
        let domain = family == .ipv4 ? AF_INET : AF_INET6
        let fd = try retryingEINTR("socket") { Glibc.socket(domain, type, Int32(IPPROTO_TCP)) }
        return Socket(descriptor: FileDescriptor(rawValue: fd))
    }

    public func bind(to address: SocketAddress) throws(SystemCallError) {
        _ = try address.withSockaddr { (sa, length) throws(SystemCallError) in
            try retryingEINTR("bind", subject: address.description) { Glibc.bind(rawValue, sa, length) }
        }
    }

    public func listen(backlog: Int32) throws(SystemCallError) {
        _ = try retryingEINTR("listen", subject: "backlog \(backlog)") { Glibc.listen(rawValue, backlog) }
    }

    /// Accepts one connection; nil when a non-blocking listener has none ready.
    public func accept(nonBlocking: Bool = false) throws(SystemCallError) -> (Socket, SocketAddress)? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let flags = Int32(SOCK_CLOEXEC.rawValue) | (nonBlocking ? Int32(SOCK_NONBLOCK.rawValue) : 0)
        let fd = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                // ECONNABORTED: the peer went away while queued; the caller just tries again.
                try? retryingEINTR("accept4") { tcplab_accept4(rawValue, sa, &length, flags) }
            }
        }
        guard let fd else {
            let code = Errno(rawValue: Glibc.errno)
            if code == .wouldBlock || code == .resourceTemporarilyUnavailable || code == .connectionAbort { return nil }
            throw SystemCallError(code, call: "accept4")
        }
        return (Socket(descriptor: FileDescriptor(rawValue: fd)), SocketAddress(storage: storage))
    }

    /// Starts or completes a connect. Blocking sockets return when the kernel's handshake ends;
    /// non-blocking ones throw EINPROGRESS, and `connectResult()` reads the outcome later.
    public func connect(to address: SocketAddress) throws(SystemCallError) {
        _ = try address.withSockaddr { (sa, length) throws(SystemCallError) in
            // connect() is not restarted after EINTR (the handshake goes on): treat EINTR like EINPROGRESS.
            let result = Glibc.connect(rawValue, sa, length)
            if result == 0 { return }
            throw SystemCallError(Errno(rawValue: Glibc.errno), call: "connect", subject: address.description)
        }
    }

    /// SO_ERROR: the outcome of a non-blocking connect (nil when it succeeded).
    public func pendingError() throws(SystemCallError) -> Errno? {
        let value: Int32 = try option(SOL_SOCKET, SO_ERROR, name: "SO_ERROR")
        return value == 0 ? nil : Errno(rawValue: value)
    }

    /// Reads up to `buffer.count` bytes: 0 means the peer closed its side; nil means would block.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemCallError) -> Int? {
        do throws(SystemCallError) {
            return try retryingEINTR("read") { Glibc.read(rawValue, buffer.baseAddress, buffer.count) }
        } catch where error.errno == .wouldBlock {
            return nil
        }
    }

    /// Writes some of `buffer`; nil means would block. MSG_NOSIGNAL: a reset peer is an error, not SIGPIPE.
    public func write(_ buffer: UnsafeRawBufferPointer) throws(SystemCallError) -> Int? {
        do throws(SystemCallError) {
            return try retryingEINTR("send") { Glibc.send(rawValue, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL)) }
        } catch where error.errno == .wouldBlock {
            return nil
        }
    }

    /// Writes all of `bytes` on a blocking socket.
    public func writeAll(_ bytes: [UInt8]) throws(SystemCallError) {
        var offset = 0
        while offset < bytes.count {
            // withUnsafeBytes rethrows untyped errors: carry the typed one out in a Result.
            let written = try bytes.withUnsafeBytes { raw in
                Result { () throws(SystemCallError) -> Int? in try write(UnsafeRawBufferPointer(rebasing: raw[offset...])) }
            }.get()
            offset += written ?? 0
        }
    }

    public enum ShutdownHow: Int32, Sendable { case read = 0, write = 1, both = 2 }

    public func shutdown(_ how: ShutdownHow) throws(SystemCallError) {
        _ = try retryingEINTR("shutdown") { Glibc.shutdown(rawValue, how.rawValue) }
    }

    /// Closes the descriptor. Never retried: on Linux the descriptor is gone even after EINTR.
    public func close() {
        _ = Glibc.close(rawValue)
    }

    public func localAddress() throws(SystemCallError) -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try withUnsafeMutablePointer(to: &storage) { (pointer) throws(SystemCallError) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (sa) throws(SystemCallError) in
                try retryingEINTR("getsockname") { getsockname(rawValue, sa, &length) }
            }
        }
        return SocketAddress(storage: storage)
    }

    public func setNonBlocking() throws(SystemCallError) {
        let flags = try retryingEINTR("fcntl(F_GETFL)") { fcntl(rawValue, F_GETFL) }
        _ = try retryingEINTR("fcntl(F_SETFL)") { fcntl(rawValue, F_SETFL, flags | O_NONBLOCK) }
    }

    // MARK: options

    public func setOption<T: BitwiseCopyable>(_ level: Int32, _ option: Int32, _ value: T, name: String) throws(SystemCallError) {
        var value = value
        _ = try retryingEINTR("setsockopt(\(name))") {
            setsockopt(rawValue, level, option, &value, socklen_t(MemoryLayout<T>.size))
        }
    }

    public func option<T: FixedWidthInteger>(_ level: Int32, _ option: Int32, name: String) throws(SystemCallError) -> T {
        var value = T.zero
        var length = socklen_t(MemoryLayout<T>.size)
        _ = try retryingEINTR("getsockopt(\(name))") { getsockopt(rawValue, level, option, &value, &length) }
        return value
    }

    public func setReuseAddress(_ on: Bool) throws(SystemCallError) {
        try setOption(SOL_SOCKET, SO_REUSEADDR, Int32(on ? 1 : 0), name: "SO_REUSEADDR")
    }

    /// SO_LINGER {on, 0}: close() aborts the connection with RST and skips TIME_WAIT.
    public func setLingerReset() throws(SystemCallError) {
        try setOption(SOL_SOCKET, SO_LINGER, linger(l_onoff: 1, l_linger: 0), name: "SO_LINGER")
    }

    /// SO_KEEPALIVE with per-socket TCP_KEEPIDLE / TCP_KEEPINTVL / TCP_KEEPCNT.
    public func setKeepalive(_ keepalive: Keepalive) throws(SystemCallError) {
        try setOption(SOL_SOCKET, SO_KEEPALIVE, Int32(1), name: "SO_KEEPALIVE")
        try setOption(Int32(IPPROTO_TCP), TCP_KEEPIDLE, Int32(keepalive.idleSeconds), name: "TCP_KEEPIDLE")
        try setOption(Int32(IPPROTO_TCP), TCP_KEEPINTVL, Int32(keepalive.intervalSeconds), name: "TCP_KEEPINTVL")
        try setOption(Int32(IPPROTO_TCP), TCP_KEEPCNT, Int32(keepalive.count), name: "TCP_KEEPCNT")
    }

    /// Only for IPv6 listeners: accept IPv6 only, so an IPv4 listener on the same port stays separate.
    public func setIPv6Only() throws(SystemCallError) {
        try setOption(Int32(IPPROTO_IPV6), IPV6_V6ONLY, Int32(1), name: "IPV6_V6ONLY")
    }
}
