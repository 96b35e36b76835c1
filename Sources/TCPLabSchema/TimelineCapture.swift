/// How complete a run's timeline is: the segments the kernel captured (the packet counters of the
/// rules that log, read at exit, and the frames the packet ring took) against the records and
/// frames the reader received. NFLOG's ENOBUFS only says "some were lost"; the counters (and
/// the ring's PACKET_STATISTICS) say how many.
public struct TimelineCapture: Codable, Sendable, Equatable {
    public var logged: UInt64
    public var received: UInt64
    /// How far CLOCK_REALTIME moved against CLOCK_MONOTONIC during the run (the realtime −
    /// monotonic offset at the end minus the one at the start, µs): the error of the tracepoints'
    /// `unix_us`, which use the start's offset. nil without tracepoints.
    public var traceClockDriftMicroseconds: Int64?

    public init(logged: UInt64, received: UInt64, traceClockDriftMicroseconds: Int64? = nil) {
        self.logged = logged
        self.received = received
        self.traceClockDriftMicroseconds = traceClockDriftMicroseconds
    }

    public var missed: UInt64 { logged > received ? logged - received : 0 }

    /// "the timeline missed 36 of 21265 segments the kernel captured (the reader fell behind and its buffer overflowed)"
    public var summary: String {
        missed == 0
            ? "the timeline holds all \(logged) segments the kernel captured"
            : "the timeline missed \(missed) of \(logged) segments the kernel captured (the reader fell behind and its buffer overflowed)"
    }

    enum CodingKeys: String, CodingKey {
        case logged, received, missed
        case traceClockDriftMicroseconds = "trace_clock_drift_us"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        logged = try container.decode(UInt64.self, forKey: .logged)
        received = try container.decode(UInt64.self, forKey: .received)
        traceClockDriftMicroseconds = try container.decodeIfPresent(Int64.self, forKey: .traceClockDriftMicroseconds)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(logged, forKey: .logged)
        try container.encode(received, forKey: .received)
        try container.encode(missed, forKey: .missed)
        try container.encodeIfPresent(traceClockDriftMicroseconds, forKey: .traceClockDriftMicroseconds)
    }
}
