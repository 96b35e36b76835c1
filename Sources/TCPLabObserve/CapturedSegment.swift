import TCPLabFault
import TCPLabNetlink
import TCPLabSystem

/// What faultproxy did with a segment, read from its NFLOG prefix.
public enum SegmentFate: String, Codable, Sendable, CaseIterable {
    /// `delayed`: taken by a delay rule and held (logged before the queue verdict); `released`:
    /// the same segment going on when the hold ended (logged by the release chain).
    case passed, dropped, delayed, duplicated, released

    /// Reads "tcplab pass", "tcplab drop syn", "tcplab delay data 300ms", "tcplab duplicate syn 500ms",
    /// "tcplab release data 300ms"; any other prefix means passed.
    public static func parse(prefix: String) -> (fate: SegmentFate, faultKind: SegmentKind?) {
        let words = prefix.split(separator: " ").map(String.init)
        guard words.count >= 2, words[0] == "tcplab" else { return (.passed, nil) }
        let kind = words.count >= 3 ? SegmentKind(name: words[2]) : nil
        switch words[1] {
        case "drop": return (.dropped, kind)
        case "delay": return (.delayed, kind)
        case "duplicate": return (.duplicated, kind)
        case "release": return (.released, kind)
        default: return (.passed, nil)
        }
    }

    /// The delay or copy delay a queued fault's prefix names ("tcplab delay synack 100ms~5ms"):
    /// nominal and jitter in µs, nil for other prefixes.
    public static func timing(prefix: String) -> (delayMicroseconds: Int64, jitterMicroseconds: Int64)? {
        let words = prefix.split(separator: " ")
        guard words.count >= 4, words[0] == "tcplab", ["delay", "duplicate", "release"].contains(words[1]) else { return nil }
        let parts = words[3].split(separator: "~")
        guard let delay = try? FaultDuration(parsing: String(parts[0])) else { return nil }
        let jitter = parts.count > 1 ? (try? FaultDuration(parsing: String(parts[1]))) ?? .zero : .zero
        return (Int64(delay.nanoseconds / 1000), Int64(jitter.nanoseconds / 1000))
    }
}

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
    /// placed by `readAt`, the reader's wall clock (ns) when the record arrived.
    public init(record: NFLogRecord, readAt: Int64 = WallClock.nowNanoseconds()) throws(PacketParseError) {
        let (fate, kind) = SegmentFate.parse(prefix: record.prefix)
        let stamped = KernelClockStamp(mark: record.mark).nanoseconds(readAt: readAt) / 1000
        self.init(
            timestampMicroseconds: record.timestampMicroseconds ?? stamped,
            header: try PacketParser.parse(record.packet), fate: fate, faultKind: kind, packet: record.packet
        )
        faultTiming = SegmentFate.timing(prefix: record.prefix)
    }
}
