/// One segment of a watched connection, classified. This is the timeline's JSON-lines schema
/// (one object per line, keys below, units in the key names); it is stable: add keys, never
/// rename or remove them. docs/timeline-json.md is written from this comment.
///
/// | key | type | meaning |
/// |-----|------|---------|
/// | `conn` | int | connection number, 0, 1, ... in order of first segment |
/// | `t_us` | int | µs since this connection's first segment (kernel timestamps) |
/// | `unix_us` | int | kernel timestamp, µs since the Unix epoch |
/// | `from` | "client" / "server" | sender; the client is the side that sent the first SYN |
/// | `src`, `dst` | string | "10.0.0.1:4000", "[::1]:4000" |
/// | `kind` | string | syn, synack, handshake-ack, data, ack, fin, fin-ack, peer-fin, last-ack, rst, keepalive, keepalive-ack, window-probe |
/// | `retransmission` | bool | repeats (part of) a sequence range this side already sent |
/// | `fate` | "passed" / "dropped" / "delayed" / "released" / "duplicated" | what faultproxy did (from the NFLOG prefix); a delayed segment is shown twice: "delayed" when the rule took it, "released" when it went on (same segment, same classification), a duplicate's copy again when it comes back |
/// | `fault_kind` | string, optional | the kind faultproxy named when it dropped, delayed or duplicated the segment |
/// | `fault_delay_us`, `fault_jitter_us` | int, optional | delayed: how long it is held; duplicated: after how long the copy follows (nominal; the jitter when one was given) |
/// | `held_us` | int, optional | released: how long it was held, from the "delayed" event's `unix_us` to this one's (both kernel timestamps) |
/// | `flags` | string | tcpdump's letters: "S", "S.", ".", "P.", "F.", "R" |
/// | `seq_rel`, `ack_rel` | int | sequence / acknowledgment relative to the sender's / receiver's ISN (SYN = 0); `ack_rel` absent without ACK |
/// | `seq_raw`, `ack_raw` | int | the raw 32-bit numbers |
/// | `len_bytes` | int | payload bytes |
/// | `win_raw` | int | the window field as sent |
/// | `win_bytes` | int, optional | the window scaled by the sender's wscale, when both SYNs carried one (not on SYN segments) |
/// | `mss_bytes`, `wscale`, `sack_ok`, `ts_val`, `ts_ecr` | optional | the options, when present |
/// | `sack_rel` | [[int, int]], optional | SACK blocks [left, right) relative to the ISN of the data's sender (this segment's receiver) |
/// | `options` | [string] | every option in order, tcpdump's spelling ("mss 65495", "nop", "wscale 7", "unknown-254 4") |
public struct TimelineEvent: Codable, Sendable, Equatable {
    public var connection: Int
    public var offsetMicroseconds: Int64
    public var timeUnixMicroseconds: Int64
    public var from: Endpoint
    public var source: String
    public var destination: String
    public var kind: SegmentKind
    public var retransmission: Bool
    public var fate: SegmentFate
    public var faultKind: SegmentKind?
    public var flags: String
    public var sequenceRelative: UInt32
    public var acknowledgmentRelative: UInt32?
    public var sequenceRaw: UInt32
    public var acknowledgmentRaw: UInt32
    public var payloadBytes: Int
    public var windowRaw: UInt16
    public var windowBytes: Int?
    public var maximumSegmentSizeBytes: UInt16?
    public var windowScale: UInt8?
    public var sackPermitted: Bool?
    public var timestampValue: UInt32?
    public var timestampEchoReply: UInt32?
    public var sackRelative: [[UInt32]]?
    public var options: [String]
    public var faultDelayMicroseconds: Int64? = nil
    public var faultJitterMicroseconds: Int64? = nil
    /// Released: µs since the same segment's "delayed" event.
    public var heldMicroseconds: Int64? = nil

    public init(connection: Int, offsetMicroseconds: Int64, timeUnixMicroseconds: Int64, from: Endpoint, source: String,
                destination: String, kind: SegmentKind, retransmission: Bool, fate: SegmentFate, faultKind: SegmentKind? = nil,
                flags: String, sequenceRelative: UInt32, acknowledgmentRelative: UInt32?, sequenceRaw: UInt32,
                acknowledgmentRaw: UInt32, payloadBytes: Int, windowRaw: UInt16, windowBytes: Int? = nil,
                maximumSegmentSizeBytes: UInt16? = nil, windowScale: UInt8? = nil, sackPermitted: Bool? = nil,
                timestampValue: UInt32? = nil, timestampEchoReply: UInt32? = nil, sackRelative: [[UInt32]]? = nil,
                options: [String] = [], faultDelayMicroseconds: Int64? = nil, faultJitterMicroseconds: Int64? = nil,
                heldMicroseconds: Int64? = nil) {
        self.connection = connection
        self.offsetMicroseconds = offsetMicroseconds
        self.timeUnixMicroseconds = timeUnixMicroseconds
        self.from = from
        self.source = source
        self.destination = destination
        self.kind = kind
        self.retransmission = retransmission
        self.fate = fate
        self.faultKind = faultKind
        self.flags = flags
        self.sequenceRelative = sequenceRelative
        self.acknowledgmentRelative = acknowledgmentRelative
        self.sequenceRaw = sequenceRaw
        self.acknowledgmentRaw = acknowledgmentRaw
        self.payloadBytes = payloadBytes
        self.windowRaw = windowRaw
        self.windowBytes = windowBytes
        self.maximumSegmentSizeBytes = maximumSegmentSizeBytes
        self.windowScale = windowScale
        self.sackPermitted = sackPermitted
        self.timestampValue = timestampValue
        self.timestampEchoReply = timestampEchoReply
        self.sackRelative = sackRelative
        self.options = options
        self.faultDelayMicroseconds = faultDelayMicroseconds
        self.faultJitterMicroseconds = faultJitterMicroseconds
        self.heldMicroseconds = heldMicroseconds
    }

    enum CodingKeys: String, CodingKey {
        case connection = "conn"
        case offsetMicroseconds = "t_us"
        case timeUnixMicroseconds = "unix_us"
        case from
        case source = "src"
        case destination = "dst"
        case kind, retransmission, fate
        case faultKind = "fault_kind"
        case flags
        case sequenceRelative = "seq_rel"
        case acknowledgmentRelative = "ack_rel"
        case sequenceRaw = "seq_raw"
        case acknowledgmentRaw = "ack_raw"
        case payloadBytes = "len_bytes"
        case windowRaw = "win_raw"
        case windowBytes = "win_bytes"
        case maximumSegmentSizeBytes = "mss_bytes"
        case windowScale = "wscale"
        case sackPermitted = "sack_ok"
        case timestampValue = "ts_val"
        case timestampEchoReply = "ts_ecr"
        case sackRelative = "sack_rel"
        case options
        case faultDelayMicroseconds = "fault_delay_us"
        case faultJitterMicroseconds = "fault_jitter_us"
        case heldMicroseconds = "held_us"
    }

    /// "+1.020000s client S seq 0 win 65495 [syn, retransmission] ✗ dropped": one line for logs.
    public var summary: String {
        var text = "\(Self.seconds(offsetMicroseconds)) \(from.rawValue) \(flags) seq \(sequenceRelative)"
        if let ack = acknowledgmentRelative { text += " ack \(ack)" }
        text += " win \(windowRaw) len \(payloadBytes) [\(kind.rawValue)\(retransmission ? ", retransmission" : "")]"
        switch fate {
        case .passed: break
        case .dropped: text += " ✗ dropped"
        case .delayed: text += " ⧖ delayed" + faultTimingText
        case .released: text += " ⧖ released" + heldText
        case .duplicated: text += " ⧉ duplicate" + (faultDelayMicroseconds.map { _ in ", copy after" + faultTimingText } ?? "")
        }
        return text
    }

    /// " 300 ms", " 100 ms ± 5 ms", or "" without a timing.
    public var faultTimingText: String {
        guard let delay = faultDelayMicroseconds else { return "" }
        func ms(_ us: Int64) -> String { us % 1000 == 0 ? "\(us / 1000) ms" : "\(Double(us) / 1000) ms" }
        return " " + ms(delay) + (faultJitterMicroseconds.map { " ± " + ms($0) } ?? "")
    }

    /// " (held 300.4 ms)", or "" when the hold's start was not seen.
    public var heldText: String {
        guard let held = heldMicroseconds else { return "" }
        let tenths = (held + 50) / 100
        return " (held \(tenths / 10).\(tenths % 10) ms)"
    }

    /// "+1.020000s".
    public static func seconds(_ microseconds: Int64) -> String {
        let sign = microseconds < 0 ? "-" : "+"
        let magnitude = microseconds.magnitude
        let fraction = String(magnitude % 1_000_000)
        return "\(sign)\(magnitude / 1_000_000).\(String(repeating: "0", count: 6 - fraction.count))\(fraction)s"
    }
}
