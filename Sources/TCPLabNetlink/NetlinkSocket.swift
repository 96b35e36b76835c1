import CNetfilter
import CTCPLabShim
import SystemPackage
import TCPLabSystem

#if canImport(Glibc)
import Glibc
#endif

/// A libmnl netlink socket, bound and owned: closed when the value goes away. The netlink
/// socket belongs to the network namespace of the thread that opened it, and an nftables
/// table made with NFT_TABLE_F_OWNER lives exactly as long as this socket.
public final class NetlinkSocket: @unchecked Sendable {
    /// The netlink families TCPLab talks to.
    public enum Bus: Int32, Sendable {
        case netfilter = 12   // NETLINK_NETFILTER: nf_tables, nfnetlink_log, nfnetlink_queue
        case sockDiag = 4     // NETLINK_SOCK_DIAG (NETLINK_INET_DIAG)
    }

    /// Owned libmnl handle; only this class touches it.
    let handle: OpaquePointer
    public let bus: Bus
    /// The kernel-assigned port id (the `owner` of owned tables).
    public let portID: UInt32
    private var nextSequence: UInt32

    public init(_ bus: Bus) throws(SystemCallError) {
        guard let handle = mnl_socket_open(bus.rawValue) else {
            throw SystemCallError(Errno(rawValue: errno), call: "mnl_socket_open", subject: "\(bus)")
        }
        guard mnl_socket_bind(handle, 0, pid_t(MNL_SOCKET_AUTOPID)) >= 0 else {
            let code = Errno(rawValue: errno)
            mnl_socket_close(handle)
            throw SystemCallError(code, call: "mnl_socket_bind", subject: "\(bus)")
        }
        self.handle = handle
        self.bus = bus
        self.portID = mnl_socket_get_portid(handle)
        // Start from the clock so replies to an earlier process's socket are never confused with ours.
        self.nextSequence = UInt32(truncatingIfNeeded: time(nil))
    }

    deinit { mnl_socket_close(handle) }

    /// The descriptor, for epoll.
    public var fileDescriptor: FileDescriptor { FileDescriptor(rawValue: mnl_socket_get_fd(handle)) }

    /// Reserves `count` consecutive sequence numbers and returns the first.
    public func reserveSequence(_ count: UInt32 = 1) -> UInt32 {
        let first = nextSequence
        nextSequence &+= count
        return first
    }

    public func setOption(_ option: Int32, _ value: Int32) throws(SystemCallError) {
        var value = value
        guard mnl_socket_setsockopt(handle, option, &value, socklen_t(MemoryLayout<Int32>.size)) >= 0 else {
            throw SystemCallError(Errno(rawValue: errno), call: "setsockopt(SOL_NETLINK, \(option))")
        }
    }

    /// Sends one buffer holding one or more netlink messages.
    public func send(_ bytes: UnsafeRawBufferPointer) throws(SystemCallError) {
        let sent = mnl_socket_sendto(handle, bytes.baseAddress, bytes.count)
        if sent < 0 { throw SystemCallError(Errno(rawValue: errno), call: "mnl_socket_sendto", subject: "\(bus)") }
    }

    /// Receives one datagram (possibly several messages) into `buffer`; returns its length.
    public func receive(into buffer: UnsafeMutableRawBufferPointer) throws(SystemCallError) -> Int {
        try retryingEINTR("mnl_socket_recvfrom", subject: "\(bus)") { mnl_socket_recvfrom(handle, buffer.baseAddress, buffer.count) }
    }

    /// Waits up to `timeoutMilliseconds` (0: just look, -1: forever) for something to read.
    /// Returns false on timeout. Replies to nf_tables requests are queued before sendto returns,
    /// so a short timeout only guards against a kernel that never answers.
    public func waitUntilReadable(timeoutMilliseconds: Int32) throws(SystemCallError) -> Bool {
        try !Poll.wait(mnl_socket_get_fd(handle), for: .readable, timeoutMilliseconds: timeoutMilliseconds,
                       subject: "\(bus) netlink socket").isEmpty
    }

    /// The receive buffer size libmnl recommends (MNL_SOCKET_BUFFER_SIZE, at least 8 KiB).
    public static var recommendedBufferSize: Int { Int(tcplab_mnl_socket_buffer_size()) }
}
