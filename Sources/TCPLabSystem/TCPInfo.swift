import CTCPLabShim
import TCPLabSchema

#if canImport(Glibc)
import Glibc
#endif

extension Socket {
    /// getsockopt(TCP_INFO). Glibc's `struct tcp_info` is shorter than what the kernel fills in;
    /// getsockopt copies min(its size, ours), which is all these fields need.
    public func tcpInfo() throws(SystemCallError) -> TCPInfoSummary {
        var info = tcp_info()
        var length = socklen_t(MemoryLayout<tcp_info>.size)
        _ = try retryingEINTR("getsockopt(TCP_INFO)") { getsockopt(rawValue, Int32(IPPROTO_TCP), TCP_INFO, &info, &length) }
        return TCPInfoSummary(
            state: TCPState(rawValue: info.tcpi_state).description,
            retransmits: Int(info.tcpi_retransmits),
            totalRetrans: Int(info.tcpi_total_retrans),
            rtoMicroseconds: Int(info.tcpi_rto),
            probes: Int(info.tcpi_probes),
            backoff: Int(info.tcpi_backoff),
            rttMicroseconds: Int(info.tcpi_rtt)
        )
    }
}
