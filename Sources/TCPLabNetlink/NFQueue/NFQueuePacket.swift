/// One packet the kernel queued to userspace, waiting for a verdict by `id`.
public struct NFQueuePacket: Sendable, Equatable {
    public var queue: UInt16
    /// NFPROTO_* of the hook (2 for IPv4, 10 for IPv6; an inet table reports the packet's own).
    public var family: UInt8
    /// The id a verdict names; unique per queue until the verdict is given.
    public var id: UInt32
    /// The packet from its network header on (copy mode `packet`).
    public var bytes: [UInt8]
    public var hwProtocol: UInt16 = 0
    /// NF_INET_* hook number (0 PRE_ROUTING).
    public var hook: UInt8 = 0
    /// `meta mark` when the rule queued it (host order on the wire as big-endian, converted).
    public var mark: UInt32 = 0
    /// The skb's receive timestamp, when it had one.
    public var timestampMicroseconds: Int64?
    public var inputInterface: UInt32?
    public var outputInterface: UInt32?
    /// The packet's full length when the copy was cut short (NFQA_CAP_LEN); nil when whole.
    public var originalLength: Int?
    /// NFQA_SKB_* bits (checksum not ready, GSO).
    public var skbInfo: UInt32 = 0

    public init(queue: UInt16, family: UInt8, id: UInt32, bytes: [UInt8]) {
        self.queue = queue
        self.family = family
        self.id = id
        self.bytes = bytes
    }

    /// The kernel handed over less than the whole packet.
    public var isTruncated: Bool { originalLength.map { $0 > bytes.count } ?? false }
}
