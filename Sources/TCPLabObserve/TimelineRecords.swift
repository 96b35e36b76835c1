import TCPLabNetlink
import TCPLabSystem

/// The timeline's state and tracepoint lines (TCPLabSchema's records) from the observed values
/// and back: faultproxy writes `record`, the library's Observation reads `init?(record:)`.
extension SocketTransition {
    /// The `"type":"state"` line.
    public var record: SocketStateRecord {
        SocketStateRecord(
            offsetMicroseconds: offsetMicroseconds, timeUnixMicroseconds: timeUnixMicroseconds, side: side,
            local: local.description, remote: remote.description, state: state?.description ?? "CLOSED",
            previousState: previousState?.description, timer: timer.description,
            expiresMilliseconds: expiresMilliseconds, retransmits: retransmits
        )
    }

    /// Reads a state line back; nil when an address does not parse. An unknown timer name reads as no timer.
    public init?(record: SocketStateRecord) {
        guard let local = InetEndpoint(record.local), let remote = InetEndpoint(record.remote) else { return nil }
        self.init(
            offsetMicroseconds: record.offsetMicroseconds, timeUnixMicroseconds: record.timeUnixMicroseconds,
            side: record.side, local: local, remote: remote, state: Self.state(record.state),
            previousState: record.previousState.flatMap(Self.state), timer: SocketTimer(name: record.timer) ?? .none,
            expiresMilliseconds: record.expiresMilliseconds, retransmits: record.retransmits
        )
    }

    /// "CLOSED" in a state line means the socket is gone (nil), as `record` writes it.
    private static func state(_ name: String) -> TCPState? { name == "CLOSED" ? nil : TCPState(name: name) }
}

extension KernelEvent {
    /// The `"type":"kernel"` line.
    public var record: KernelEventRecord {
        KernelEventRecord(
            event: name.rawValue, timeUnixMicroseconds: timeUnixMicroseconds, monotonicMicroseconds: monotonicMicroseconds,
            side: side, local: local.description, remote: remote.description,
            oldState: oldState?.description, newState: newState?.description
        )
    }

    /// Reads a tracepoint line back; nil for an unknown tracepoint or an address that does not parse.
    public init?(record: KernelEventRecord) {
        guard let name = Name(rawValue: record.event), let local = InetEndpoint(record.local),
              let remote = InetEndpoint(record.remote) else { return nil }
        self.init(name: name, monotonicMicroseconds: record.monotonicMicroseconds, timeUnixMicroseconds: record.timeUnixMicroseconds,
                  local: local, remote: remote, side: record.side,
                  oldState: record.oldState.flatMap(TCPState.init(name:)), newState: record.newState.flatMap(TCPState.init(name:)))
    }
}
