import TCPLabFault

/// How long after the previous copy each retransmission went out, and the ratio to the gap
/// before that copy (2 = the timer backed off). The timeline knows a segment repeats a range, not
/// which timer sent it: the gap and its growth are what tell an RTO with backoff (1, 2, 4 s), a
/// linear SYN timer (1, 1, 1 s) or a fast retransmit (one RTT) apart.
public struct RetransmissionGap: Sendable, Equatable {
    /// µs since the previous transmission of the same segment by the same end.
    public var sincePrevious: Int64
    /// `sincePrevious` over the gap before the previous copy, when that copy was a retransmission too.
    public var ratio: Double?

    /// "+1.020 s after the last copy, ×2.0".
    public var text: String {
        var text = "+\(Self.seconds(sincePrevious)) s after the last copy"
        if let ratio { text += ", ×\(Double((ratio * 10).rounded()) / 10)" }
        return text
    }

    /// 1_020_000 → "1.020".
    static func seconds(_ microseconds: Int64) -> String {
        let ms = (microseconds + 500) / 1000
        let fraction = String(ms % 1000)
        return "\(ms / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }

    /// One entry per event: the gap for a retransmission whose earlier copy is in the timeline, else nil.
    /// A release is the same transmission as its "delayed" event and neither starts nor ends a gap.
    public static func of(_ events: [TimelineEvent]) -> [RetransmissionGap?] {
        struct Key: Hashable { let connection: Int; let from: Endpoint; let sequence: UInt32; let kind: SegmentKind }
        var last: [Key: (time: Int64, gap: Int64?)] = [:]
        return events.map { event in
            guard event.fate != .released else { return nil }
            let key = Key(connection: event.connection, from: event.from, sequence: event.sequenceRaw, kind: event.kind)
            let previous = last[key]
            let gap = previous.map { event.timeUnixMicroseconds - $0.time }
            last[key] = (event.timeUnixMicroseconds, gap)
            guard event.retransmission, let gap else { return nil }
            // A ratio only between two timer-sized gaps: a copy sent at once in answer to the peer's
            // own retransmission (a SYN-ACK to a repeated SYN) is no backoff step.
            let ratio = previous?.gap.flatMap { before -> Double? in
                guard before >= 1000, gap >= 1000 else { return nil }
                let ratio = Double(gap) / Double(before)
                return (0.25...8).contains(ratio) ? ratio : nil
            }
            return RetransmissionGap(sincePrevious: gap, ratio: ratio)
        }
    }
}
