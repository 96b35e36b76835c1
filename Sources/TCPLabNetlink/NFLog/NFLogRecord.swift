/// One packet logged by an nftables `log group N` statement, as nfnetlink_log delivered it.
public struct NFLogRecord: Sendable, Equatable {
    /// The NFLOG group (nfgenmsg.res_id).
    public var group: UInt16
    /// The packet's protocol family from nfgenmsg: 2 (NFPROTO_IPV4) or 10 (NFPROTO_IPV6).
    public var family: UInt8
    /// NFULA_PACKET_HDR: the link-layer protocol (0x0800 IPv4, 0x86DD IPv6) and the netfilter hook.
    public var hwProtocol: UInt16
    public var hook: UInt8
    /// NFULA_TIMESTAMP: the kernel's receive time, microseconds since the Unix epoch; nil when absent.
    public var timestampMicroseconds: Int64?
    /// NFULA_PREFIX without its NUL ("tcplab pass", "tcplab drop syn").
    public var prefix: String
    /// NFULA_MARK, when the packet had one.
    public var mark: UInt32?
    /// NFULA_IFINDEX_INDEV / OUTDEV.
    public var inputInterface: UInt32?
    public var outputInterface: UInt32?
    /// NFULA_PAYLOAD: the packet from its network header on (up to the copy range).
    public var packet: [UInt8]

    public init(
        group: UInt16, family: UInt8, hwProtocol: UInt16 = 0, hook: UInt8 = 0, timestampMicroseconds: Int64?,
        prefix: String, mark: UInt32? = nil, inputInterface: UInt32? = nil, outputInterface: UInt32? = nil, packet: [UInt8]
    ) {
        self.group = group
        self.family = family
        self.hwProtocol = hwProtocol
        self.hook = hook
        self.timestampMicroseconds = timestampMicroseconds
        self.prefix = prefix
        self.mark = mark
        self.inputInterface = inputInterface
        self.outputInterface = outputInterface
        self.packet = packet
    }
}
