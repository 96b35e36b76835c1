/// The TCP_INFO fields echo-server and echo-client report (`tcp_info`), filled in by
/// TCPLabSystem's `Socket.tcpInfo()`.
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
