import CTCPLabShim

#if canImport(Glibc)
import Glibc
#endif

/// Buffer sizes, Nagle, and the loss/window fields of TCP_INFO that Glibc's `struct tcp_info`
/// does not reach: the flow-control and data-loss labs need them.
extension Socket {
    /// SO_RCVBUF: the kernel doubles the value for its bookkeeping overhead (socket(7)) and turns
    /// off receive-buffer autotuning for this socket. Set it on a listener before listen() so
    /// accepted sockets inherit it and the SYN-ACK already advertises the small window.
    public func setReceiveBuffer(bytes: Int) throws(SystemCallError) {
        try setOption(SOL_SOCKET, SO_RCVBUF, Int32(bytes), name: "SO_RCVBUF")
    }

    /// SO_SNDBUF (doubled by the kernel as well; autotuning of the send buffer stops).
    public func setSendBuffer(bytes: Int) throws(SystemCallError) {
        try setOption(SOL_SOCKET, SO_SNDBUF, Int32(bytes), name: "SO_SNDBUF")
    }

    /// The effective SO_RCVBUF / SO_SNDBUF in bytes (after the kernel's doubling).
    public func receiveBuffer() throws(SystemCallError) -> Int {
        Int(try option(SOL_SOCKET, SO_RCVBUF, name: "SO_RCVBUF") as Int32)
    }

    public func sendBuffer() throws(SystemCallError) -> Int {
        Int(try option(SOL_SOCKET, SO_SNDBUF, name: "SO_SNDBUF") as Int32)
    }

    /// TCP_NODELAY: every write goes out at once as its own segment (no Nagle coalescing).
    public func setNoDelay(_ on: Bool) throws(SystemCallError) {
        try setOption(Int32(IPPROTO_TCP), TCP_NODELAY, Int32(on ? 1 : 0), name: "TCP_NODELAY")
    }

    /// getsockopt(TCP_INFO) into a buffer as long as today's kernels fill, read by offset.
    public func tcpInfoDetail() throws(SystemCallError) -> TCPInfoDetail {
        var bytes = [UInt8](repeating: 0, count: TCPInfoDetail.bufferSize)
        var length = socklen_t(bytes.count)
        // withUnsafeMutableBytes rethrows untyped errors: carry the typed one out in a Result.
        _ = try bytes.withUnsafeMutableBytes { raw in
            Result { () throws(SystemCallError) -> Int32 in
                try retryingEINTR("getsockopt(TCP_INFO)") { getsockopt(rawValue, Int32(IPPROTO_TCP), TCP_INFO, raw.baseAddress, &length) }
            }
        }.get()
        return TCPInfoDetail(bytes: Array(bytes.prefix(Int(length))))
    }
}

/// struct tcp_info as the kernel fills it (include/uapi/linux/tcp.h), the fields about loss
/// recovery and the send window. Fields past the returned length (an older kernel) read as nil.
public struct TCPInfoDetail: Hashable, Sendable {
    /// Up to tcpi_rcv_wnd and beyond: the kernel copies min(its size, ours).
    static let bufferSize = 320
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }

    func u8(_ offset: Int) -> Int? { offset < bytes.count ? Int(bytes[offset]) : nil }
    func u32(_ offset: Int) -> Int? {
        guard offset + 4 <= bytes.count else { return nil }
        return bytes[offset..<offset + 4].reversed().reduce(0) { $0 << 8 | Int($1) }
    }
    func u64(_ offset: Int) -> Int? {
        guard offset + 8 <= bytes.count else { return nil }
        return bytes[offset..<offset + 8].reversed().reduce(0) { $0 << 8 | Int($1) }
    }

    // The layout: 8 single bytes, then u32 fields from offset 8 (Linux 2.6+).
    public var state: Int? { u8(0) }
    /// tcpi_ca_state: 0 Open, 1 Disorder, 2 CWR, 3 Recovery, 4 Loss.
    public var congestionState: Int? { u8(1) }
    /// icsk_retransmits: RTO retransmissions of the current head (reset once it is acked).
    public var retransmits: Int? { u8(2) }
    /// icsk_probes_out: zero-window (or keepalive) probes without an answer.
    public var probes: Int? { u8(3) }
    /// icsk_backoff: the exponent of the RTO / persist-timer backoff.
    public var backoff: Int? { u8(4) }
    public var rtoMicroseconds: Int? { u32(8) }
    public var unacked: Int? { u32(24) }
    public var sacked: Int? { u32(28) }
    public var lost: Int? { u32(32) }
    /// tcpi_retrans: retransmitted segments still in flight.
    public var retrans: Int? { u32(36) }
    /// srtt in µs.
    public var rttMicroseconds: Int? { u32(68) }
    public var reordering: Int? { u32(88) }
    /// tcpi_total_retrans: every segment retransmitted on this connection.
    public var totalRetrans: Int? { u32(100) }
    // Linux 4.6+ (tcpi_segs_out ...), 4.10+ (min_rtt ...), 5.4+ (snd_wnd).
    public var bytesReceived: Int? { u64(128) }
    public var minRTTMicroseconds: Int? { u32(148) }
    public var bytesSent: Int? { u64(200) }
    public var bytesRetrans: Int? { u64(208) }
    public var reorderSeen: Int? { u32(220) }
    /// Out-of-order packets this socket received (5.4+).
    public var receivedOutOfOrder: Int? { u32(224) }
    /// The peer's advertised window after scaling, in bytes (5.4+).
    public var sendWindow: Int? { u32(228) }
}
