import TCPLabFault
import TCPLabNetlink

/// What faultproxy did with a segment, read from its NFLOG prefix.
public enum SegmentFate: String, Codable, Sendable, CaseIterable {
    case passed, dropped, delayed

    /// Reads "tcplab pass", "tcplab drop syn", "tcplab delay data"; any other prefix means passed.
    public static func parse(prefix: String) -> (fate: SegmentFate, faultKind: SegmentKind?) {
        let words = prefix.split(separator: " ").map(String.init)
        guard words.count >= 2, words[0] == "tcplab" else { return (.passed, nil) }
        let kind = words.count >= 3 ? SegmentKind(name: words[2]) : nil
        switch words[1] {
        case "drop": return (.dropped, kind)
        case "delay": return (.delayed, kind)
        default: return (.passed, nil)
        }
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

    public init(timestampMicroseconds: Int64, header: TCPSegmentHeader, fate: SegmentFate = .passed,
                faultKind: SegmentKind? = nil, packet: [UInt8] = []) {
        self.timestampMicroseconds = timestampMicroseconds
        self.header = header
        self.fate = fate
        self.faultKind = faultKind
        self.packet = packet
    }

    /// Parses an NFLOG record. A record without a kernel timestamp gets `fallbackMicroseconds`.
    public init(record: NFLogRecord, fallbackMicroseconds: Int64 = 0) throws(PacketParseError) {
        let (fate, kind) = SegmentFate.parse(prefix: record.prefix)
        self.init(
            timestampMicroseconds: record.timestampMicroseconds ?? fallbackMicroseconds,
            header: try PacketParser.parse(record.packet), fate: fate, faultKind: kind, packet: record.packet
        )
    }
}
