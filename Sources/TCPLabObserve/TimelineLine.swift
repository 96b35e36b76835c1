import TCPLabFault

/// One line of `--timeline json`: a segment (`"type":"segment"`, the `TimelineEvent` keys) or a
/// socket state transition (`"type":"state"`). Both carry `unix_us`, so a reader can merge them
/// in time order. The last line of a run (`"type":"capture"`) says how many segments the kernel
/// logged and how many the timeline holds. docs/timeline-json.md documents every key.
public enum TimelineLine: Encodable {
    case segment(TimelineEvent)
    case state(SocketTransition)
    case capture(TimelineCapture)
    /// A tracepoint (`"type":"kernel"`).
    case kernel(KernelEvent)

    enum Keys: String, CodingKey {
        case type
        case offsetMicroseconds = "t_us"
        case timeUnixMicroseconds = "unix_us"
        case side, local, remote, state
        case previousState = "previous_state"
        case timer
        case expiresMilliseconds = "expires_ms"
        case retransmits = "retrans"
        case event
        case monotonicMicroseconds = "mono_us"
        case oldState = "old_state"
        case newState = "new_state"
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .segment(let event):
            try event.encode(to: encoder)
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode("segment", forKey: .type)
        case .state(let change):
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode("state", forKey: .type)
            try container.encode(change.offsetMicroseconds, forKey: .offsetMicroseconds)
            try container.encode(change.timeUnixMicroseconds, forKey: .timeUnixMicroseconds)
            try container.encode(change.side.rawValue, forKey: .side)
            try container.encode(change.local.description, forKey: .local)
            try container.encode(change.remote.description, forKey: .remote)
            try container.encode(change.state?.description ?? "CLOSED", forKey: .state)
            try container.encode(change.previousState?.description, forKey: .previousState)
            try container.encode("\(change.timer)", forKey: .timer)
            try container.encode(change.expiresMilliseconds, forKey: .expiresMilliseconds)
            try container.encode(change.retransmits, forKey: .retransmits)
        case .kernel(let event):
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode("kernel", forKey: .type)
            try container.encode(event.name.rawValue, forKey: .event)
            try container.encode(event.timeUnixMicroseconds, forKey: .timeUnixMicroseconds)
            try container.encode(event.monotonicMicroseconds, forKey: .monotonicMicroseconds)
            try container.encode(event.side.rawValue, forKey: .side)
            try container.encode(event.local.description, forKey: .local)
            try container.encode(event.remote.description, forKey: .remote)
            try container.encodeIfPresent(event.oldState?.description, forKey: .oldState)
            try container.encodeIfPresent(event.newState?.description, forKey: .newState)
        case .capture(let capture):
            try capture.encode(to: encoder)
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode("capture", forKey: .type)
        }
    }
}
