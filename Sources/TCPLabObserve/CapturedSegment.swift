import TCPLabFault
import TCPLabNetlink
import TCPLabSystem

/// One parsed segment with its kernel timestamp, before the timeline classifies it.
public struct CapturedSegment: Sendable, Equatable {
    /// Microseconds since the Unix epoch (the kernel's NFLOG timestamp).
    public var timestampMicroseconds: Int64
    public var header: TCPSegmentHeader
    public var fate: SegmentFate
    /// The kind faultproxy named in its drop/delay prefix.
    public var faultKind: SegmentKind?
    /// The raw packet from its network header on, for pcap.
    public var packet: [UInt8]
    /// A delayed or duplicated segment's nominal delay and jitter (µs), from the prefix.
    public var faultTiming: (delayMicroseconds: Int64, jitterMicroseconds: Int64)?

    public static func == (lhs: CapturedSegment, rhs: CapturedSegment) -> Bool {
        lhs.timestampMicroseconds == rhs.timestampMicroseconds && lhs.header == rhs.header && lhs.fate == rhs.fate
            && lhs.faultKind == rhs.faultKind && lhs.packet == rhs.packet
            && lhs.faultTiming?.delayMicroseconds == rhs.faultTiming?.delayMicroseconds
            && lhs.faultTiming?.jitterMicroseconds == rhs.faultTiming?.jitterMicroseconds
    }

    public init(timestampMicroseconds: Int64, header: TCPSegmentHeader, fate: SegmentFate = .passed,
                faultKind: SegmentKind? = nil, packet: [UInt8] = []) {
        self.timestampMicroseconds = timestampMicroseconds
        self.header = header
        self.fate = fate
        self.faultKind = faultKind
        self.packet = packet
    }

    /// Parses an NFLOG record. One without NFLOG's timestamp (a host's own segment, logged at
    /// output) takes the kernel time its log rule stamped into the mark (`KernelClockStamp`),
    /// placed by `readAt`, the reader's wall clock (ns) when the record arrived. So does a
    /// release: NFLOG's timestamp is the skb's receive stamp where it has one (whenever a packet
    /// socket asked for timestamps: tcpdump, the ring), which for a held segment is its arrival.
    /// `tag`: the record's prefix already read (a reader sees the same few prefixes again and again).
    public init(record: NFLogRecord, readAt: Int64 = WallClock.nowNanoseconds(), tag: FaultTag? = nil) throws(PacketParseError) {
        let tag = tag ?? FaultTag(recordPrefix: record.prefix)
        let stamped = KernelClockStamp(mark: record.mark).nanoseconds(readAt: readAt) / 1000
        self.init(
            timestampMicroseconds: tag.fate == .released && record.mark != nil ? stamped : record.timestampMicroseconds ?? stamped,
            header: try PacketParser.parse(record.packet), fate: tag.fate, faultKind: tag.kind, packet: record.packet
        )
        faultTiming = tag.timingMicroseconds.map { (delayMicroseconds: $0.delay, jitterMicroseconds: $0.jitter) }
    }

    /// Parses a packet ring frame: a segment that arrived and passed (a fault's record of it
    /// sets its fate, see `CaptureMerge`). `timeNanoseconds`: the frame's kernel timestamp.
    public init(arrival bytes: [UInt8], timeNanoseconds: Int64) throws(PacketParseError) {
        self.init(timestampMicroseconds: timeNanoseconds / 1000, header: try PacketParser.parse(bytes), packet: bytes)
    }
}
