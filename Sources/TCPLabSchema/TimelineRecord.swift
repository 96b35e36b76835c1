/// One line of `--timeline json`: a segment (`"type":"segment"`, the `TimelineEvent` keys), a
/// socket state transition (`"type":"state"`), a tracepoint (`"type":"kernel"`), or the run's
/// last line (`"type":"capture"`: how many segments the kernel logged and how many the timeline
/// holds). Segments, states and tracepoints carry `unix_us`, so a reader can merge them in time
/// order. faultproxy writes these and the library reads them back (`Observation`);
/// docs/timeline-json.md documents every key.
public enum TimelineRecord: Codable, Sendable, Equatable {
    case segment(TimelineEvent)
    case state(SocketStateRecord)
    case kernel(KernelEventRecord)
    case capture(TimelineCapture)

    /// The `type` key's values.
    public enum Kind: String, Codable, Sendable {
        case segment, state, kernel, capture
    }

    enum TypeKey: String, CodingKey { case type }

    public var kind: Kind {
        switch self {
        case .segment: .segment
        case .state: .state
        case .kernel: .kernel
        case .capture: .capture
        }
    }

    public init(from decoder: any Decoder) throws {
        // A segment line written before `type` existed has none.
        let kind = try decoder.container(keyedBy: TypeKey.self).decodeIfPresent(Kind.self, forKey: .type) ?? .segment
        switch kind {
        case .segment: self = .segment(try TimelineEvent(from: decoder))
        case .state: self = .state(try SocketStateRecord(from: decoder))
        case .kernel: self = .kernel(try KernelEventRecord(from: decoder))
        case .capture: self = .capture(try TimelineCapture(from: decoder))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .segment(let event): try event.encode(to: encoder)
        case .state(let state): try state.encode(to: encoder)
        case .kernel(let event): try event.encode(to: encoder)
        case .capture(let capture): try capture.encode(to: encoder)
        }
        var container = encoder.container(keyedBy: TypeKey.self)
        try container.encode(kind, forKey: .type)
    }
}

/// A `"type":"state"` line: a socket changed state, timer or retransmit count (sock_diag).
public struct SocketStateRecord: Codable, Sendable, Equatable {
    /// µs since the watcher's origin.
    public var offsetMicroseconds: Int64
    /// CLOCK_REALTIME, µs since the Unix epoch, comparable with NFLOG stamps.
    public var timeUnixMicroseconds: Int64
    public var side: Endpoint
    /// "127.0.0.1:40000", "[::1]:7000".
    public var local: String
    public var remote: String
    /// The kernel's name ("SYN_SENT"), "CLOSED" when the socket is gone.
    public var state: String
    /// nil (JSON null) for a socket seen for the first time.
    @ExplicitNull public var previousState: String?
    /// "no timer", "retransmit timer", "keepalive timer", ...
    public var timer: String
    public var expiresMilliseconds: UInt32
    public var retransmits: UInt8

    public init(offsetMicroseconds: Int64, timeUnixMicroseconds: Int64, side: Endpoint, local: String, remote: String,
                state: String, previousState: String?, timer: String, expiresMilliseconds: UInt32, retransmits: UInt8) {
        self.offsetMicroseconds = offsetMicroseconds
        self.timeUnixMicroseconds = timeUnixMicroseconds
        self.side = side
        self.local = local
        self.remote = remote
        self.state = state
        self.previousState = previousState
        self.timer = timer
        self.expiresMilliseconds = expiresMilliseconds
        self.retransmits = retransmits
    }

    enum CodingKeys: String, CodingKey {
        case offsetMicroseconds = "t_us"
        case timeUnixMicroseconds = "unix_us"
        case side, local, remote, state
        case previousState = "previous_state"
        case timer
        case expiresMilliseconds = "expires_ms"
        case retransmits = "retrans"
    }
}

/// A `"type":"kernel"` line: one tracepoint (inet_sock_set_state, tcp_retransmit_skb, ...).
public struct KernelEventRecord: Codable, Sendable, Equatable {
    /// The tracepoint's name ("inet_sock_set_state").
    public var event: String
    public var timeUnixMicroseconds: Int64
    /// The trace clock (CLOCK_MONOTONIC), µs.
    public var monotonicMicroseconds: Int64
    public var side: Endpoint
    public var local: String
    public var remote: String
    /// Present when the tracepoint names them.
    public var oldState: String?
    public var newState: String?

    public init(event: String, timeUnixMicroseconds: Int64, monotonicMicroseconds: Int64, side: Endpoint, local: String,
                remote: String, oldState: String? = nil, newState: String? = nil) {
        self.event = event
        self.timeUnixMicroseconds = timeUnixMicroseconds
        self.monotonicMicroseconds = monotonicMicroseconds
        self.side = side
        self.local = local
        self.remote = remote
        self.oldState = oldState
        self.newState = newState
    }

    enum CodingKeys: String, CodingKey {
        case event
        case timeUnixMicroseconds = "unix_us"
        case monotonicMicroseconds = "mono_us"
        case side, local, remote
        case oldState = "old_state"
        case newState = "new_state"
    }
}
