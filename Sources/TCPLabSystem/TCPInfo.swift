import CTCPLabShim

#if canImport(Glibc)
import Glibc
#endif

/// The TCP_INFO fields a lab reports. Glibc's `struct tcp_info` is shorter than what the kernel
/// fills in; getsockopt copies min(its size, ours), which is all these fields need.
public struct TCPInfoSummary: Hashable, Sendable, Codable {
    public var state: String
    public var retransmits: Int
    public var totalRetrans: Int
    public var rtoMicroseconds: Int
    public var probes: Int
    public var backoff: Int
    public var rttMicroseconds: Int

    enum CodingKeys: String, CodingKey {
        case state, retransmits, probes, backoff
        case totalRetrans = "total_retrans"
        case rtoMicroseconds = "rto_us"
        case rttMicroseconds = "rtt_us"
    }

    public init(state: String, retransmits: Int, totalRetrans: Int, rtoMicroseconds: Int, probes: Int, backoff: Int, rttMicroseconds: Int) {
        self.state = state
        self.retransmits = retransmits
        self.totalRetrans = totalRetrans
        self.rtoMicroseconds = rtoMicroseconds
        self.probes = probes
        self.backoff = backoff
        self.rttMicroseconds = rttMicroseconds
    }
}

extension Socket {
    /// getsockopt(TCP_INFO).
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
